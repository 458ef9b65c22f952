#!/usr/bin/env bash
# The Debian sid corpus: see fetch-debian.sh.
exec "$(dirname "$0")/fetch-debian.sh" sid "$@"
