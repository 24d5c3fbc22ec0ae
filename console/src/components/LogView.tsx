import { useLayoutEffect, useRef } from "react";

/**
 * A host's log as plain text in monospace. It follows the tail while the reader is at the bottom,
 * and stays put once they scroll up. A <pre> of one text node stays fast for the agent's 1 MB cap.
 */
export function LogView({ text, label }: { text: string; label: string }) {
  const box = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  useLayoutEffect(() => {
    const element = box.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [text]);
  const onScroll = () => {
    const element = box.current;
    if (element) following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
  };
  return (
    <pre className="log" ref={box} onScroll={onScroll} aria-label={label} tabIndex={0} data-testid="host-log">
      {text || "(no output yet)"}
    </pre>
  );
}
