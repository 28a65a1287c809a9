"""Apply one mutant (original line -> mutated line, inside the named function) to a copy of
tlmsim/timeline.py and run the by-hand test file; report whether the tests fail (killed)."""
import subprocess, sys, shutil, pathlib
src = pathlib.Path('tlmsim/timeline.py')
orig = pathlib.Path('/work/wt/mutTL/tlmsim/timeline.py').read_text()
cases = [
 ('_schema_1', '''raise ConfigError("--perfetto needs the 'perfetto' package (pip install perfetto==0.59.1)") from None''', '''raise ConfigError(None) from None'''),
 ('_schema_2', '''raise ConfigError("--perfetto needs the 'perfetto' package (pip install perfetto==0.59.1)") from None''', '''raise ConfigError("XX--perfetto needs the 'perfetto' package (pip install perfetto==0.59.1)XX") from None'''),
 ('_schema_3', '''raise ConfigError("--perfetto needs the 'perfetto' package (pip install perfetto==0.59.1)") from None''', '''raise ConfigError("--PERFETTO NEEDS THE 'PERFETTO' PACKAGE (PIP INSTALL PERFETTO==0.59.1)") from None'''),
 ('hop_1', 'self.hops += 1', 'self.hops = 1'),
 ('hop_76', 'and tile >= 0 and core_base(component) == "l1"', 'and tile > 0 and core_base(component) == "l1"'),
 ('hop_77', 'and tile >= 0 and core_base(component) == "l1"', 'and tile >= 1 and core_base(component) == "l1"'),
 ('hop_161', 'if wait_ps > 0:', 'if wait_ps > 1:'),
]
sel = sys.argv[1:]
for name, a, b in cases:
    if sel and name not in sel: continue
    assert orig.count(a) == 1, name
    src.write_text(orig.replace(a, b))
    r = subprocess.run([sys.executable, '-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider', 'tests/observability/test_timeline_by_hand_s14.py'],
                       capture_output=True, text=True, env={'PYTHONPATH': '/tmp/mutTL/hc', 'PATH': '/usr/bin:/bin', 'TLMSIM_PURE': '1'})
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-200:]
    fails = [l for l in r.stdout.splitlines() if l.startswith('FAILED')]
    print(name, 'KILLED' if r.returncode else 'SURVIVED', '|', last, '|', fails[:1], flush=True)
src.write_text(orig)
