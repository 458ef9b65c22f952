#!/usr/bin/env bash
# The Debian trixie corpus: see fetch-debian.sh.
exec "$(dirname "$0")/fetch-debian.sh" trixie "$@"
