#!/usr/bin/env bash
# The Debian trixie chroot: see chroot-debian.sh.
exec "$(dirname "$0")/chroot-debian.sh" trixie "$@"
