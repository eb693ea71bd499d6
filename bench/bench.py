#!/usr/bin/env python3
"""Measure kiln against Kapitan and the write floor, and write bench/RESULTS.md.

Run it through bench/run.sh, which installs hyperfine, GNU time and Kapitan when they
are missing and builds kiln in release mode. Every figure is a whole process, timed by
hyperfine over several runs (median, min, max); peak RSS comes from GNU time wrapped
around the same runs.

  bench.py --kiln PATH [--sizes 10,100,1000,5000] [--runs 5] [--kapitan-runs 3]
           [--kapitan-once-above 1000] [--kapitan-skip-above N] [--work DIR]
           [--results bench/RESULTS.md] [--keep]

Measured for each N (applications x 2 environments):
  - kiln build from an empty out/ (each run writes into a fresh out/: the previous one
    is moved aside and deleted only after every measurement, because on this disk
    creating many files shortly after deleting many is 20-30x slower);
  - kiln build with nothing changed (asserts that no file's mtime or inode changed);
  - kiln build after changing one application;
  - kiln check on the up-to-date tree; kiln diff dev prod;
  - kapitan compile of the equivalent inventory (gen_kapitan.py), in the same run;
  - the write floor: write_floor.py writing the bytes of kiln's out/ to the same paths;
  - kubectl kustomize on kiln's largest Flux Kustomization path (by objects).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CERT = os.path.join(REPO, "src", "secrets", "test_data", "cert2048.pem")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def log(msg):
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, check=True, capture=False):
    return subprocess.run(cmd, shell=isinstance(cmd, str), cwd=cwd, env=env, check=check,
                          text=True, capture_output=capture)


def toggle(path):
    """Changes one application (app-0000's LOG_LEVEL) in the model, back and forth."""
    with open(path) as fh:
        text = fh.read()
    m = re.search(r"LOG_LEVEL: (info|debug)", text)
    new = "debug" if m.group(1) == "info" else "info"
    text = text[: m.start()] + f"LOG_LEVEL: {new}" + text[m.end():]
    with open(path, "w") as fh:
        fh.write(text)


def snapshot(tree):
    """path -> (mtime_ns, inode) of every file under tree."""
    out = {}
    for root, _dirs, files in os.walk(tree):
        for f in files:
            p = os.path.join(root, f)
            st = os.stat(p)
            out[os.path.relpath(p, tree)] = (st.st_mtime_ns, st.st_ino)
    return out


def tree_size(tree):
    n = b = 0
    for root, _dirs, files in os.walk(tree):
        for f in files:
            n += 1
            b += os.path.getsize(os.path.join(root, f))
    return n, b


def stats(times):
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "runs": len(times),
    }


class Bench:
    def __init__(self, args):
        self.a = args
        self.kiln = os.path.abspath(args.kiln)
        self.work = args.work
        self.trash = os.path.join(self.work, "trash")
        os.makedirs(self.trash, exist_ok=True)
        self.results = {"sizes": {}, "problems": []}
        self.counter = 0

    def unique(self, prefix):
        self.counter += 1
        return os.path.join(self.trash, f"{prefix}-{self.counter}-{time.time_ns()}")

    def hyperfine(self, command, cwd, runs, prepare=None, ignore_failure=False):
        """Times `command` (a shell string) in `cwd`; returns stats with peak RSS."""
        rss = os.path.join(self.work, f"rss-{time.time_ns()}.txt")
        js = os.path.join(self.work, f"hf-{time.time_ns()}.json")
        wrapped = f"/usr/bin/time -f %M -a -o {rss} {command}"
        cmd = ["hyperfine", "--runs", str(runs), "--export-json", js, "--style", "basic",
               "--shell", "bash"]
        if prepare:
            cmd += ["--prepare", prepare]
        if ignore_failure:
            cmd.append("--ignore-failure")
        cmd.append(wrapped)
        log(f"hyperfine x{runs}: {command}  (in {cwd})")
        subprocess.run(cmd, cwd=cwd, check=True, stdout=sys.stderr)
        with open(js) as fh:
            data = json.load(fh)["results"][0]
        out = stats(data["times"])
        with open(rss) as fh:
            kb = [int(line) for line in fh.read().split() if line.isdigit()]
        out["rss_mib"] = max(kb) / 1024 if kb else None
        out["command"] = command
        os.remove(js)
        os.remove(rss)
        return out

    def phases(self, args, cwd, prepare=None):
        """One run of `kiln ARGS` with KILN_TIMINGS=1: [(phase, ms, rss_mib, peak_mib)]."""
        if prepare:
            run(prepare, cwd=cwd)
        env = dict(os.environ, KILN_TIMINGS="1")
        p = run([self.kiln] + args, cwd=cwd, env=env, check=False, capture=True)
        out = []
        for line in p.stderr.splitlines():
            m = re.match(r"kiln: (.+?) ([0-9.]+) ms, RSS ([0-9]+) MiB \(peak ([0-9]+) MiB\)$", line)
            if m:
                out.append([m.group(1), float(m.group(2)), int(m.group(3)), int(m.group(4))])
        return out

    def kiln_env(self):
        env = dict(os.environ)
        fake_op = os.path.join(self.work, "fake-op")
        os.makedirs(fake_op, exist_ok=True)
        op = os.path.join(fake_op, "op")
        with open(op, "w") as fh:
            fh.write('#!/bin/sh\n# A stand-in for the 1Password CLI: every item holds a fixed value.\n'
                     'printf "%s" "bench-value-for-$3"\n')
        os.chmod(op, 0o755)
        env["PATH"] = fake_op + os.pathsep + env["PATH"]
        env["KILN_REGISTRY_PULL_USERNAME"] = "robot"
        return env

    def measure(self, n):
        a = self.a
        runs = a.runs if n <= 1000 else a.big_runs
        base = os.path.join(self.work, f"n{n}")
        model = os.path.join(base, "kiln")
        kapitan_dir = os.path.join(base, "kapitan")
        res = {}
        self.results["sizes"][str(n)] = res
        k = self.kiln

        log(f"N={n}: generating the kiln model and sealing its secrets (untimed)")
        run([sys.executable, os.path.join(HERE, "gen_kiln.py"), str(n), model], capture=True)
        run([k, "seal", "--cert", CERT, "-q"], cwd=model, env=self.kiln_env(), capture=True)
        model_bytes = sum(os.path.getsize(os.path.join(r, f))
                          for r, _, fs in os.walk(os.path.join(model, "environments")) for f in fs)
        res["model_bytes"] = model_bytes

        out = os.path.join(model, "out")
        move_out = f"if [ -e out ]; then mv out {self.trash}/out-$(date +%s%N); fi"
        res["build_full"] = self.hyperfine(f"{k} build -q", model, runs, prepare=move_out)
        files, size = tree_size(out)
        res["out_files"], res["out_bytes"] = files, size
        if self.supports_fsync():
            res["build_full_fsync"] = self.hyperfine(f"{k} build -q --fsync", model, runs,
                                                     prepare=move_out)
        run([k, "check", "-q"], cwd=model)

        before = snapshot(out)
        res["build_nochange"] = self.hyperfine(f"{k} build -q", model, runs)
        res["build_nochange_full"] = self.hyperfine(f"{k} build -q --no-cache", model, runs)
        after = snapshot(out)
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        res["nochange_files_touched"] = len(changed)
        if changed:
            self.results["problems"].append(
                f"N={n}: a build with nothing changed touched {len(changed)} files, e.g. {changed[:3]}")

        common = os.path.join(model, "environments", "common.yaml")
        with open(common) as fh:
            original = fh.read()
        toggle_cmd = f"{sys.executable} {os.path.abspath(__file__)} toggle {common}"
        res["build_one_app"] = self.hyperfine(f"{k} build -q", model, runs, prepare=toggle_cmd)
        toggle(common)
        summary = run([k, "build"], cwd=model, capture=True).stderr.strip().splitlines()[-1]
        res["one_app_summary"] = summary
        with open(common, "w") as fh:
            fh.write(original)
        run([k, "build", "-q"], cwd=model)

        # Where the time and memory go, phase by phase (one run each, KILN_TIMINGS=1).
        res["phases"] = {
            "build, empty out/": self.phases(["build", "-q"], model, prepare=move_out),
            "build --no-cache, nothing changed": self.phases(["build", "-q", "--no-cache"], model),
        }
        res["check"] = self.hyperfine(f"{k} check -q", model, runs)
        res["check_full"] = self.hyperfine(f"{k} check -q --no-cache", model, runs)
        res["diff"] = self.hyperfine(f"{k} diff dev prod", model, runs, ignore_failure=True)

        if n <= a.kapitan_skip_above:
            log(f"N={n}: generating the Kapitan inventory")
            run([sys.executable, os.path.join(HERE, "gen_kapitan.py"), str(n), kapitan_dir],
                capture=True)
            kruns = a.kapitan_runs if n <= a.kapitan_once_above else 1
            move = f"if [ -e compiled ]; then mv compiled {self.trash}/kapitan-$(date +%s%N); fi"
            res["kapitan"] = self.hyperfine(f"{a.kapitan} compile", kapitan_dir, kruns, prepare=move)
            res["kapitan_files"], res["kapitan_bytes"] = tree_size(
                os.path.join(kapitan_dir, "compiled"))

        res["floor"] = self.floor(out, runs)
        if shutil.which("kubectl") and n <= a.kustomize_max:
            res["kustomize"] = self.kustomize(out, n)
        elif not shutil.which("kubectl"):
            res["kustomize_skipped"] = "kubectl is not on PATH"

    def supports_fsync(self):
        help_text = run([self.kiln, "build", "--help"], capture=True).stdout
        return "--fsync" in help_text

    def floor(self, out, runs):
        blob = os.path.join(self.work, "floor.blob")
        run([sys.executable, os.path.join(HERE, "write_floor.py"), "pack", out, blob],
            capture=True)
        walls, loops = [], []
        log(f"write floor x{runs}")
        for _ in range(runs):
            dest = self.unique("floor")
            t0 = time.perf_counter()
            p = run([sys.executable, os.path.join(HERE, "write_floor.py"), "write", blob, dest],
                    capture=True)
            walls.append(time.perf_counter() - t0)
            loops.append(float(re.search(r"in ([0-9.]+)s", p.stderr).group(1)))
        os.remove(blob)
        return {"process": stats(walls), "write_loop": stats(loops)}

    def kustomize(self, out, n):
        """Times `kubectl kustomize` on the Flux Kustomization path that builds the most
        objects, and on one application's overlay."""
        paths = set()
        for root, _dirs, files in os.walk(os.path.join(out, "flux")):
            for f in files:
                text = open(os.path.join(root, f)).read()
                if "kustomize.toolkit.fluxcd.io" not in text:
                    continue
                for m in re.finditer(r"^\s*path: \./out/(\S+)$", text, re.M):
                    paths.add(m.group(1).rstrip("/"))
        sizes = sorted(((self.objects(out, p), p) for p in paths), reverse=True)
        result = {"paths": len(sizes), "largest": []}
        app = next((p for _, p in sizes if "/overlays/" in p), None)
        for count, path in sizes[: self.a.kustomize_top] + ([(self.objects(out, app), app)] if app else []):
            cmd = f"kubectl kustomize {path} > /dev/null"
            log(f"kustomize probe: {path} ({count} objects)")
            t0 = time.perf_counter()
            try:
                run(f"timeout {self.a.kustomize_timeout} {cmd}", cwd=out)
                probe = time.perf_counter() - t0
            except subprocess.CalledProcessError:
                result["largest"].append({"path": path, "objects": count,
                                          "timeout": self.a.kustomize_timeout})
                continue
            if probe < 20:
                entry = self.hyperfine(cmd, out, 3)
            else:
                entry = stats([probe])
            entry.update({"path": path, "objects": count})
            result["largest"].append(entry)
        return result

    def objects(self, out, path, depth=0):
        """Objects a kustomization directory builds (files reached through resources)."""
        k = os.path.join(out, path, "kustomization.yaml")
        if not os.path.exists(k) or depth > 16:
            return 1
        text = open(k).read()
        m = re.search(r"^resources:\n((?:- .*\n)+)", text, re.M)
        total = 0
        for line in (m.group(1).splitlines() if m else []):
            r = os.path.normpath(os.path.join(path, line[2:].strip()))
            total += self.objects(out, r, depth + 1)
        return total

    def cleanup(self):
        if self.a.keep:
            log(f"kept {self.work}")
            return
        log(f"deleting {self.work} (after every measurement, see the module doc)")
        shutil.rmtree(self.work, ignore_errors=True)


def machine():
    def read(cmd):
        try:
            return run(cmd, capture=True, check=False).stdout.strip()
        except OSError:
            return ""
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    mem = re.search(r"MemTotal:\s*(\d+) kB", open("/proc/meminfo").read())
    fs = read(["findmnt", "-no", "SOURCE,FSTYPE,OPTIONS", "-T", "/tmp"])
    df = read(["df", "-h", "--output=size,avail", "/tmp"]).splitlines()
    return {
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "disk": fs,
        "disk_space": df[-1].strip() if df else "",
        "kernel": platform.release(),
        "load_before": open("/proc/loadavg").read().split()[:3],
    }


def versions(a):
    def first(cmd):
        try:
            return run(cmd, capture=True, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "not found"
    rev = first(["git", "-C", REPO, "describe", "--always", "--dirty"])
    return {
        "kiln": f"{first([a.kiln, '--version'])} ({rev})",
        "rustc": first(["rustc", "--version"]),
        "kapitan": first([a.kapitan, "--version"]),
        "hyperfine": first(["hyperfine", "--version"]),
        "kubectl": first(["kubectl", "version", "--client"]),
        "python": sys.version.split()[0],
    }


def fmt(s):
    return f"{s:.3f}" if s < 10 else f"{s:.1f}"


def times(x):
    return f"{x:.1f}×" if x < 10 else f"{x:.0f}×"


def cell(m):
    if not m:
        return "–"
    return f"{fmt(m['median'])} ({fmt(m['min'])}–{fmt(m['max'])})"


def rss(m):
    return f"{m['rss_mib']:.0f}" if m and m.get("rss_mib") else "–"


def report(r):
    """The measured part of RESULTS.md (between the markers)."""
    L = [BEGIN, ""]
    m, v = r["machine"], r["versions"]
    L += [f"Measured {r['date']} by `bench/run.sh{' ' if r['args'] else ''}{r['args']}` "
          f"({r['runs']} runs per kiln figure, {r.get('big_runs', r['runs'])} above N = 1,000; seconds, median (min–max) of whole processes).", "",
          f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; disk `{m['disk']}` "
          f"({m['disk_space']}); Linux {m['kernel']}; load average before {' '.join(m['load_before'])}, "
          f"after {' '.join(r['load_after'])}.",
          f"- Tools: {v['kiln']}; {v['rustc']}; Kapitan {v['kapitan']}; {v['hyperfine']}; "
          f"{v['kubectl'].replace(chr(10), ' ')}; Python {v['python']}.", ""]
    L += ["`no change` and `check` answer from the freshness record (`.kiln/fresh`) the build before left; "
          "the `--no-cache` columns compile and compare everything, as a fresh clone's first run does.", "",
          "| N | files (MiB) | build, empty out/ | no change | no change, --no-cache | one app changed | check | check --no-cache | diff dev prod | Kapitan compile | Kapitan ÷ kiln build | write floor |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, s in r["sizes"].items():
        kap = s.get("kapitan")
        ratio = times(kap["median"] / s["build_full"]["median"]) if kap else "–"
        L.append(f"| {int(n):,} | {s['out_files']:,} ({s['out_bytes'] / 2**20:.0f}) | {cell(s['build_full'])} | "
                 f"{cell(s['build_nochange'])} | {cell(s.get('build_nochange_full'))} | {cell(s['build_one_app'])} | "
                 f"{cell(s['check'])} | {cell(s.get('check_full'))} | "
                 f"{cell(s['diff'])} | {cell(kap)}{'' if not kap or kap['runs'] > 1 else ' (1 run)'} | {ratio} | "
                 f"{cell(s['floor']['process'])} |")
    L += ["", "Peak RSS (MiB, the largest of all runs):", "",
          "| N | build, empty out/ | no change | no change, --no-cache | one app changed | check | check --no-cache | diff | Kapitan |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, s in r["sizes"].items():
        L.append(f"| {int(n):,} | {rss(s['build_full'])} | {rss(s['build_nochange'])} | {rss(s.get('build_nochange_full'))} | "
                 f"{rss(s['build_one_app'])} | {rss(s['check'])} | {rss(s.get('check_full'))} | {rss(s['diff'])} | {rss(s.get('kapitan'))} |")
    if any("build_full_fsync" in s for s in r["sizes"].values()):
        L += ["", "Durability (`kiln build --fsync`, from an empty out/) against the default:", "",
              "| N | default | --fsync |", "|---:|---:|---:|"]
        for n, s in r["sizes"].items():
            if "build_full_fsync" in s:
                L.append(f"| {int(n):,} | {cell(s['build_full'])} | {cell(s['build_full_fsync'])} |")
    L += ["", "The write floor: `write_floor.py write` of the bytes of kiln's out/ (whole process, "
          "and its write loop alone):", "",
          "| N | files | whole process | write loop | kiln build − floor (medians) |", "|---:|---:|---:|---:|---:|"]
    for n, s in r["sizes"].items():
        f = s["floor"]
        L.append(f"| {int(n):,} | {s['out_files']:,} | {cell(f['process'])} | {cell(f['write_loop'])} | "
                 f"{s['build_full']['median'] - f['process']['median']:+.3f} |")
    L += ["", "Kapitan's output, for comparison: "
          + "; ".join(f"N = {int(n):,}: {s['kapitan_files']:,} files ({s['kapitan_bytes'] / 2**20:.0f} MiB)"
                      for n, s in r["sizes"].items() if "kapitan_files" in s) + ".",
          "A build after changing one application: " + "; ".join(
              f"N = {int(n):,}: `{s['one_app_summary']}`" for n, s in r["sizes"].items()) + "."]
    L += ["", "`kubectl kustomize` on kiln's Flux Kustomization paths with the most objects, and on "
          "one application's overlay:", "", "| N | path | objects | seconds |", "|---:|---|---:|---:|"]
    for n, s in r["sizes"].items():
        for e in s.get("kustomize", {}).get("largest", []):
            t = f"> {e['timeout']} (timed out)" if "timeout" in e else cell(e)
            L.append(f"| {int(n):,} | `{e['path']}` | {e['objects']:,} | {t} |")
    for n, s in r["sizes"].items():
        if int(n) != 1000 or not s.get("phases"):
            continue
        L += ["", f"Where a build's time and memory go at N = {int(n):,} (`KILN_TIMINGS=1 kiln build`, one run each; "
              "milliseconds per phase, and the process's RSS when the phase ended; lint, secret references "
              "and wiring run side by side):", ""]
        names = list(s["phases"])
        L += ["| phase | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        order = []
        for ph in s["phases"].values():
            for p in ph:
                if p[0] not in order:
                    order.append(p[0])
        for name in order:
            cells = []
            for key in names:
                hit = [p for p in s["phases"][key] if p[0] == name]
                cells.append(f"{hit[0][1]:.0f} ms, {hit[0][2]} MiB" if hit else "–")
            L.append(f"| {name} | " + " | ".join(cells) + " |")
    targets = targets_table(r)
    if targets:
        L += ["", "Targets at N = 1,000 (issue 9):", "", "| target | measured | met |", "|---|---|---|"] + targets
    if r["problems"]:
        L += ["", "Problems found while measuring:", ""] + [f"- {p}" for p in r["problems"]]
    L += ["", "Commands, in the model's directory (`bench/gen_kiln.py N DIR`, sealed once with "
          "`kiln seal --cert src/secrets/test_data/cert2048.pem`) and the Kapitan project's "
          "(`bench/gen_kapitan.py N DIR`):", "", "```"]
    seen = []
    for s in r["sizes"].values():
        for key in ("build_full", "build_full_fsync", "build_nochange", "build_nochange_full", "build_one_app",
                    "check", "check_full", "diff", "kapitan"):
            if key in s and s[key]["command"] not in seen:
                seen.append(s[key]["command"])
    L += [c.replace(r["kiln"], "kiln").replace(r["kapitan"], "kapitan") for c in seen]
    L += ["python3 bench/write_floor.py pack out floor.blob; python3 bench/write_floor.py write floor.blob DEST",
          "kubectl kustomize PATH", "```",
          "Each `build, empty out/` run starts with `mv out <elsewhere>`; the one-app runs first flip "
          "`LOG_LEVEL` of `app-0000` in common.yaml. Raw figures: `bench/results.json`.", "", END]
    return "\n".join(L) + "\n"


def targets_table(r):
    s = r["sizes"].get("1000")
    if not s:
        return []
    rows = []
    b = s["build_full"]["median"]

    def row(name, value, ok):
        rows.append(f"| {name} | {value} | {'yes' if ok else '**no**'} |")
    row("full build ≤ 1.0 s", f"{fmt(b)} s", b <= 1.0)
    if "kapitan" in s:
        ratio = s["kapitan"]["median"] / b
        row("≥ 50× faster than Kapitan", f"{times(ratio)} ({fmt(s['kapitan']['median'])} s ÷ {fmt(b)} s)", ratio >= 50)
    nc = s["build_nochange"]["median"]
    full = s.get("build_nochange_full")
    row("no-change build ≤ 0.3 s, writes no file",
        f"{fmt(nc)} s, {s['nochange_files_touched']} files touched"
        + (f" ({fmt(full['median'])} s with --no-cache)" if full else ""),
        nc <= 0.3 and s["nochange_files_touched"] == 0)
    c = s["check"]["median"]
    cf = s.get("check_full")
    row("check ≤ 0.5 s", f"{fmt(c)} s" + (f" ({fmt(cf['median'])} s with --no-cache)" if cf else ""), c <= 0.5)
    peak = max(s[k]["rss_mib"] for k in ("build_full", "build_nochange", "build_nochange_full", "build_one_app",
                                         "check", "check_full", "diff") if k in s)
    row("peak RSS ≤ 200 MiB", f"{peak:.0f} MiB", peak <= 200)
    if "100" in r["sizes"]:
        g = b / r["sizes"]["100"]["build_full"]["median"]
        row("100 → 1,000 grows ≤ 11×", f"{g:.1f}× (full build)", g <= 11)
    if "5000" in r["sizes"]:
        row("N = 5,000 completes", f"{fmt(r['sizes']['5000']['build_full']['median'])} s", True)
    k = s.get("kustomize", {}).get("largest", [])
    if k:
        e = k[0]
        t = e.get("median")
        row("kubectl kustomize of the largest Flux path ≤ 1 s",
            f"{fmt(t) + ' s' if t else 'timed out'} (`{e['path']}`, {e['objects']:,} objects)", t is not None and t <= 1)
    return rows


def write_results(path, text):
    if os.path.exists(path):
        old = open(path).read()
        if BEGIN in old and END in old:
            text = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END) + 1:]
        else:
            text = old.rstrip("\n") + "\n\n" + text
    else:
        text = "# Benchmark results\n\n" + text
    with open(path, "w") as fh:
        fh.write(text)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "toggle":
        toggle(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kiln", required=True)
    p.add_argument("--kapitan", default="kapitan")
    p.add_argument("--sizes", default="10,100,1000,5000")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--big-runs", type=int, default=3, help="runs per kiln figure above N = 1,000")
    p.add_argument("--kapitan-runs", type=int, default=3)
    p.add_argument("--kapitan-once-above", type=int, default=1000,
                   help="above this N, Kapitan runs once (it takes minutes)")
    p.add_argument("--kapitan-skip-above", type=int, default=5000)
    p.add_argument("--kustomize-max", type=int, default=1000, help="largest N to run kustomize at")
    p.add_argument("--kustomize-top", type=int, default=3)
    p.add_argument("--kustomize-timeout", type=int, default=600)
    p.add_argument("--work", default=None)
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    p.add_argument("--json", default=os.path.join(HERE, "results.json"))
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--report-only", action="store_true",
                   help="only rewrite RESULTS.md from the figures in --json")
    a = p.parse_args()
    if a.report_only:
        with open(a.json) as fh:
            write_results(a.results, report(json.load(fh)))
        return
    a.work = a.work or f"/tmp/kiln-bench-{time.strftime('%Y%m%d-%H%M%S')}"
    a.kapitan = shutil.which(a.kapitan) or a.kapitan
    os.makedirs(a.work, exist_ok=True)
    b = Bench(a)
    r = b.results
    r.update({"date": datetime.date.today().isoformat(),
              "args": os.environ.get("BENCH_CMDLINE", " ".join(sys.argv[1:])),
              "runs": a.runs, "big_runs": a.big_runs, "machine": machine(), "versions": versions(a),
              "kiln": b.kiln, "kapitan": a.kapitan})
    try:
        for n in [int(x) for x in a.sizes.split(",")]:
            b.measure(n)
            r["load_after"] = open("/proc/loadavg").read().split()[:3]
            with open(a.json, "w") as fh:
                json.dump(r, fh, indent=1)
    finally:
        r["load_after"] = open("/proc/loadavg").read().split()[:3]
        if r["sizes"]:
            with open(a.json, "w") as fh:
                json.dump(r, fh, indent=1)
            write_results(a.results, report(r))
            log(f"wrote {a.results} and {a.json}")
        b.cleanup()
    if r["problems"]:
        for prob in r["problems"]:
            log(f"PROBLEM: {prob}")
        sys.exit(1)


if __name__ == "__main__":
    main()
