#!/bin/bash
# Checks that the PEM certificate in cert_file stays valid for more than
# warn_days days, and shows its subject and end date.
# Exit: 0 valid beyond warn_days, 1 expires within them (or expired),
# 2 bad parameter or not a certificate, 3 openssl is not installed.
set -u
case "$warn_days" in '' | *[!0-9]*) echo "warn_days must be a whole number, got '$warn_days'" >&2; exit 2 ;; esac
if ! command -v openssl >/dev/null 2>&1; then
    echo "openssl is not installed" >&2
    exit 3
fi
if [ ! -r "$cert_file" ]; then
    echo "cannot read cert_file $cert_file" >&2
    exit 2
fi
if ! end=$(openssl x509 -in "$cert_file" -noout -enddate 2>/dev/null); then
    echo "$cert_file is not a PEM certificate" >&2
    exit 2
fi
openssl x509 -in "$cert_file" -noout -subject
echo "${end#notAfter=} is the end date"
if openssl x509 -in "$cert_file" -noout -checkend $((warn_days * 86400)) >/dev/null; then
    echo "OK: $cert_file stays valid for more than $warn_days days"
    exit 0
fi
echo "EXPIRING: $cert_file expires within $warn_days days"
exit 1
