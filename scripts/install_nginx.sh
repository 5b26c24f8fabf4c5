#!/usr/bin/env bash
# Debian's nginx for the production topology (make run-prod, the stack tests): nothing else downloaded.
set -euo pipefail
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then exit 0; fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
