#!/usr/bin/env bash
# The Debian sid chroot: see chroot-debian.sh.
exec "$(dirname "$0")/chroot-debian.sh" sid "$@"
