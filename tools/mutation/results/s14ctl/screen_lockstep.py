"""Screen of s14ctl's lockstep_schedule mutants (session 14, mutCtl): which ones do not return within
3 s on the plans of tests/hw/test_controller_by_hand_s14.py's lockstep tests (HANG), raise, or return.
Each mutant function is taken from a kept scratch tree's mutants/tlmsim/hw/controller.py and run in
tlmsim.hw.controller's namespace. Run from the repository root:
    python tools/mutation/results/s14ctl/screen_lockstep.py /tmp/tlmsim-mut-s14ctl-hw_controller.py-XXXX
Output of the session-14 run: screen_lockstep.out (mutant number, its exit code in the run, per plan)."""
import glob
import json
import re
import signal
import sys

sys.path.insert(0, '.')
import tests.hw.test_controller_by_hand_s14 as T
import tlmsim.hw.controller as C

work = glob.glob(sys.argv[1] + '/')[0]
with open(f'{work}/mutants/tlmsim/hw/controller.py') as fh:
    src = fh.read()
funcs = re.findall(r'^(def (x_lockstep_schedule__mutmut_\d+)\(.*?)(?=^\S)', src, re.MULTILINE | re.DOTALL)
plans = [(T._plan([T._indep(i) for i in range(5)]), 2),
         (T._plan([T._chain(0, signals=("a",)), T._chain(1, after=("a",), signals=("b",)), T._indep(2),
                   T._chain(3, after=("b",)), T._indep(4)]), 2),
         (T._plan([T._chain(0, signals=("a",)), T._chain(1, after=("a",)), T._indep(2)]), 3)]
class Hang(Exception): pass
def alarm(*a): raise Hang()
signal.signal(signal.SIGALRM, alarm)
with open(f'{work}/mutants/tlmsim/hw/controller.py.meta') as fh:
    meta = json.load(fh)['exit_code_by_key']
for code, name in funcs:
    ns = dict(vars(C))
    exec(code, ns)  # noqa: S102  (a mutant's function, from mutmut's own mutated file)
    f = ns[name]
    res = []
    for plan, n in plans:
        signal.alarm(3)
        try:
            f(plan, n, 256); res.append('ok')
        except Hang:
            res.append('HANG')
        except Exception as e:  # noqa: BLE001  (any error: the mutant returns, a failure the tests see)
            res.append(type(e).__name__)
        finally:
            signal.alarm(0)
    print(name.rsplit('_', 1)[1], meta.get('tlmsim.hw.controller.' + name), res)
