"""Apply one mutant (original line -> mutated line, inside the named function) to a copy of
tlmsim/timeline.py and run the by-hand test file; report whether the tests fail (killed)."""
import subprocess, sys, shutil, pathlib
src = pathlib.Path('tlmsim/timeline.py')
orig = pathlib.Path('/work/wt/mutTL/tlmsim/timeline.py').read_text()
cases = [
 ('_counter_7', 'self._counter_on(self._track(("counter", key), key, ROOT_UUID, counter_unit=unit), ts, value)', 'self._counter_on(self._track(None, key, ROOT_UUID, counter_unit=unit), ts, value)'),
 ('_flush_occ_58', 'prev = self._occ_last.get(ch, 0.0)', 'prev = self._occ_last.get(None, 0.0)'),
 ('_inflight_39', 'self.late_inflight_ps += hi - lo', 'self.late_inflight_ps = hi - lo'),
 ('_link_slices_73', 'track = self._lane(track, s, e)', 'track = self._lane(track, None, e)'),
 ('_link_slices_74', 'track = self._lane(track, s, e)', 'track = self._lane(track, s, None)'),
 ('_write_3', 'self._fh.write(b"".join(self._buf))', 'self._fh.write(b"XXXX".join(self._buf))'),
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
