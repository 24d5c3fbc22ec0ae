//! The rules the analyzers report: what each matches, how bad it is, and what it
//! tells the user (the SDK's `command_rule`, `example` and descriptions). The
//! matching itself is in `shell.rs`, `python.rs` and `bat.rs`, on syntax trees.

use crate::domain::script::RiskLevel;
use RiskLevel::{High, Medium};

#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, reported as `rule_id`.
    pub id: &'static str,
    /// The command the rule is about (`command_name`).
    pub command: &'static str,
    pub level: RiskLevel,
    /// What the rule matches, in words (`command_rule`).
    pub matches: &'static str,
    pub example: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

macro_rules! rules {
    ($($name:ident: $id:literal, $command:literal, $level:ident, $matches:literal, $example:literal, $en:literal, $zh:literal;)*) => {
        $(pub const $name: Rule = Rule {
            id: $id, command: $command, level: $level, matches: $matches, example: $example, en: $en, zh: $zh,
        };)*
        /// Every rule, in the order of the README's table.
        pub const ALL: &[&Rule] = &[$(&$name),*];
    };
}

rules! {
    RM_ROOT: "rm-recursive-root", "rm", High,
        "rm with -r/-R/--recursive on /, /* or with --no-preserve-root",
        "rm -rf /", "Recursively deletes the whole file system.", "递归删除整个文件系统。";
    RM_SYSTEM: "rm-recursive-system", "rm", High,
        "rm with -r/-R/--recursive on a system directory (/etc, /usr, /boot, /var, /home, ~ …) or everything in it",
        "rm -rf /etc", "Recursively deletes a system directory; the host may not boot or work again.",
        "递归删除系统目录，主机可能无法再启动或正常工作。";
    RM_UNRESOLVED: "rm-recursive-unset-prefix", "rm", Medium,
        "rm with -r/-R on a path that starts with a variable the script never sets, followed by /",
        "rm -rf \"$DIR/\"*", "If the variable is empty the path is /: the whole file system is deleted.",
        "若变量为空，路径即为 /，将删除整个文件系统。";
    FIND_DELETE: "find-delete-system", "find", High,
        "find on / or a system directory with -delete or -exec rm (also piped into xargs rm)",
        "find / -name '*' -delete", "Deletes files throughout the file system or a system directory.",
        "在整个文件系统或系统目录中删除文件。";
    RMTREE: "rmtree-system", "shutil.rmtree", High,
        "Python shutil.rmtree on / or a system directory",
        "shutil.rmtree('/')", "Recursively deletes the whole file system or a system directory.",
        "递归删除整个文件系统或系统目录。";
    MV_SYSTEM: "mv-system", "mv", High,
        "mv of /, or of a system directory, elsewhere",
        "mv /etc /tmp/etc", "Moves a system directory away; the host stops working.", "移走系统目录，主机将无法正常工作。";
    MKFS: "format-device", "mkfs", High,
        "mkfs, mkfs.*, mke2fs, wipefs, mkswap on a disk device; format on Windows",
        "mkfs.ext4 /dev/sda1", "Formats a disk or partition: its data is lost.", "格式化磁盘或分区，其中数据将丢失。";
    DD_DEVICE: "dd-to-device", "dd", High,
        "dd with of= a disk device (/dev/sd*, /dev/nvme*, /dev/vd*, /dev/mapper/* …)",
        "dd if=/dev/zero of=/dev/sda", "Overwrites a disk device byte by byte.", "逐字节覆盖磁盘设备。";
    DEVICE_WRITE: "write-to-device", ">", High,
        "a redirection, cp, tee or shred onto a disk device",
        "echo x > /dev/sda", "Overwrites a disk device: partitions and file systems are destroyed.",
        "覆盖磁盘设备，分区和文件系统将被破坏。";
    PARTITION: "partition-table", "fdisk", Medium,
        "fdisk, sfdisk, parted, gdisk, sgdisk, diskpart",
        "parted /dev/sda rm 1", "Changes a disk's partition table.", "修改磁盘分区表。";
    SHUTDOWN: "shutdown-reboot", "shutdown", High,
        "shutdown, reboot, halt, poweroff, init 0/6, telinit 0/6, systemctl poweroff/reboot/halt",
        "shutdown -h now", "Stops or restarts the host; its services go down.", "关闭或重启主机，其上服务将中断。";
    CHMOD_SYSTEM: "chmod-world-writable-system", "chmod", High,
        "chmod to a world-writable mode (777, a+rwx, o+w …) on / or a system directory",
        "chmod -R 777 /", "Makes system files writable by every user; the host is compromised and sshd/sudo may refuse to work.",
        "使系统文件对所有用户可写，主机安全失效，sshd/sudo 可能拒绝工作。";
    CHMOD_RECURSIVE: "chmod-recursive-world-writable", "chmod", Medium,
        "chmod -R to a world-writable mode on any other path",
        "chmod -R 777 ./data", "Makes a whole tree writable by every user.", "使整个目录树对所有用户可写。";
    CHOWN_SYSTEM: "chown-recursive-system", "chown", High,
        "chown/chgrp -R on / or a system directory",
        "chown -R nobody /", "Changes the owner of system files; setuid programs and services break.",
        "修改系统文件属主，setuid 程序和服务将失效。";
    FORK_BOMB: "fork-bomb", ":(){ :|:& };:", High,
        "a function that calls itself more than once, piped or in the background",
        ":(){ :|:& };:", "Starts processes until the host runs out of them.", "无限创建进程直至主机资源耗尽。";
    PIPE_TO_SHELL: "remote-code-to-shell", "curl | sh", High,
        "curl/wget output piped into a shell or interpreter, or given to one as <(…) or -c \"$(…)\"",
        "curl -fsSL https://example.com/install.sh | sh", "Runs code from the network unseen.",
        "直接执行从网络下载的未经审查的代码。";
    TRACE_WIPE: "history-log-wipe", "history", High,
        "deleting or truncating shell histories or login/audit logs (.bash_history, wtmp, btmp, lastlog, auth.log, secure); wevtutil cl",
        "cat /dev/null > ~/.bash_history", "Destroys the record of what was done on the host.", "销毁主机上的操作记录。";
    HISTORY_OFF: "history-disable", "history", Medium,
        "history -c, unset HISTFILE, HISTFILE=/dev/null, HISTSIZE=0, set +o history",
        "unset HISTFILE", "Stops or clears the shell's record of commands.", "停止或清空 shell 命令记录。";
    CREDENTIALS: "credential-file-tamper", "/etc/shadow", High,
        "deleting or overwriting /etc/passwd, /etc/shadow, /etc/sudoers, /etc/group or authorized_keys; passwd -d",
        "echo > /etc/shadow", "Breaks or takes over the host's accounts and logins.", "破坏或篡改主机账户与登录凭据。";
    CREDENTIALS_APPEND: "credential-file-append", "/etc/sudoers", Medium,
        "appending to /etc/passwd, /etc/shadow, /etc/sudoers or authorized_keys",
        "echo 'u ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers", "Grants access or privileges to someone.",
        "为他人授予访问权限或特权。";
    KILL_ALL: "kill-all-processes", "kill", High,
        "kill of -1 (every process) or of 1 (init); killall5",
        "kill -9 -1", "Kills every process or init: the host goes down.", "杀死全部进程或 init 进程，主机将宕机。";
    SYSRQ: "sysrq-trigger", "/proc/sysrq-trigger", High,
        "a write to /proc/sysrq-trigger",
        "echo b > /proc/sysrq-trigger", "Crashes or reboots the kernel at once.", "立即使内核崩溃或重启。";
    FIREWALL: "firewall-flush", "iptables", Medium,
        "iptables/ip6tables -F/-X/-P … DROP, nft flush ruleset, ufw disable",
        "iptables -F", "Removes firewall rules or locks out traffic.", "清除防火墙规则或阻断流量。";
    CRONTAB: "crontab-remove", "crontab", Medium,
        "crontab -r", "crontab -r", "Deletes every scheduled job of the user.", "删除用户全部定时任务。";
    REMOTE_ACCESS: "stop-remote-access", "systemctl", Medium,
        "stopping or disabling sshd or networking (systemctl, service)",
        "systemctl stop sshd", "Cuts remote access to the host.", "切断对主机的远程访问。";
    UNPARSED: "unparsed-part", "", Medium,
        "a part of the script the parser cannot read (a syntax error); it is not analyzed",
        "echo $((", "Part of the script could not be analyzed; read it yourself before running it.",
        "脚本的一部分无法解析，未被分析；运行前请人工检查。";
    TOO_COMPLEX: "analysis-limit", "", Medium,
        "a script that needs more analysis steps than one analysis takes (deeply nested loops of strings run again); the rest is not analyzed",
        "for a in 1 2; do for b in 1 2; do bash -c '…'; done; done",
        "The script is too complex to analyze completely; read it yourself before running it.",
        "脚本过于复杂，未能完整分析；运行前请人工检查。";
}
