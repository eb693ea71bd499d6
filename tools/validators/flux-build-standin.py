"""A stand-in for the flux CLI as flux-local calls it (the flux binary is not in a
package registry): `flux build ks NAME --dry-run --kustomization-file F --path DIR`.
For a Kustomization without postBuild substitutions, patches, images, components,
a targetNamespace or name prefixes (kiln writes none of them), `flux build` is
`kustomize build DIR`; any of those makes the stand-in refuse rather than build
something else. setup-validators.sh installs it as `flux` beside flux-local."""
import subprocess
import sys

import yaml

args = sys.argv[1:]
if args[:2] != ["build", "ks"] or "--path" not in args:
    sys.exit("flux stand-in: only `flux build ks ... --path DIR` is supported, not %s" % args)
path = args[args.index("--path") + 1]
spec = {}
if "--kustomization-file" in args:
    name = args[args.index("--kustomization-file") + 1]
    text = sys.stdin.read() if name == "/dev/stdin" else open(name).read()
    for doc in yaml.safe_load_all(text):
        if doc and doc.get("kind") == "Kustomization":
            spec = doc.get("spec") or {}
fields = ("postBuild", "patches", "images", "components", "targetNamespace", "namePrefix", "nameSuffix")
unsupported = [f for f in fields if spec.get(f)]
if unsupported:
    sys.exit("flux stand-in: cannot build a Kustomization with %s" % ", ".join(unsupported))
sys.exit(subprocess.call(["kustomize", "build", path]))
