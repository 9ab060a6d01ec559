"""numba settings: the bare C math functions the kernels call, and the collector pause around
compilation."""

import gc
import json
import math
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from engine.accelerate import (
    BARE_MATH_ENV,
    KERNEL_MATH_FUNCTIONS,
    bind_bare_math,
    collector_paused,
    jit,
)

# Arguments across each function's range, its special values and where its result overflows,
# underflows or is undefined.
EXP_ARGS = [
    *np.linspace(-745.0, 709.0, 997),
    -0.0,
    1e-300,
    709.8,
    710.0,
    -746.0,
    math.inf,
    -math.inf,
    math.nan,
]
LOG_ARGS = [
    *np.geomspace(5e-324, 1.7e308, 997),
    0.0,
    -0.0,
    -1.0,
    1.0,
    math.inf,
    -math.inf,
    math.nan,
]
POW_BASES = (0.0, -0.0, 0.3, 1.0, 2.0, -8.0, 1e300, math.inf, math.nan)
POW_EXPONENTS = (-2000.0, -1.0, -0.5, 0.0, 1.0 / 3.0, 2.0, 3.0, 2000.0, math.inf, math.nan)
POW_ARGS = [(b, e) for b in POW_BASES for e in POW_EXPONENTS]


@jit
def _compiled_math(exp_args, log_args, pow_args, out_exp, out_log, out_pow):
    for i in range(exp_args.shape[0]):
        out_exp[i] = math.exp(exp_args[i])
    for i in range(log_args.shape[0]):
        out_log[i] = math.log(log_args[i])
    for i in range(pow_args.shape[0]):
        out_pow[i] = pow_args[i, 0] ** pow_args[i, 1]


def _ieee_reference(function, *args):
    """The C library's value (by Python's math module), with the IEEE results where Python
    raises instead: inf on overflow, -inf at log(0), ±inf for 0 to a negative power (-inf for
    -0 to an odd one), NaN for an undefined result."""
    try:
        return function(*args)
    except OverflowError:
        return math.inf
    except ValueError:
        if function is math.log and args[0] == 0.0:
            return -math.inf
        if function is math.pow and args[0] == 0.0:
            base, exponent = args
            odd = exponent % 2.0 == 1.0
            return math.copysign(math.inf, base) if odd else math.inf
        return math.nan


def test_compiled_math_gives_the_c_librarys_bits():
    exp_args, log_args, pow_args = np.array(EXP_ARGS), np.array(LOG_ARGS), np.array(POW_ARGS)
    outs = np.empty_like(exp_args), np.empty_like(log_args), np.empty(len(pow_args))
    _compiled_math(exp_args, log_args, pow_args, *outs)
    expected = (
        [_ieee_reference(math.exp, x) for x in exp_args],
        [_ieee_reference(math.log, x) for x in log_args],
        [_ieee_reference(math.pow, b, e) for b, e in pow_args],
    )
    for name, got, want in zip(KERNEL_MATH_FUNCTIONS, outs, expected, strict=True):
        want = np.array(want)
        same = (got.view(np.int64) == want.view(np.int64)) | (np.isnan(got) & np.isnan(want))
        assert same.all(), (name, got[~same][:5], want[~same][:5])


BOUND_SCRIPT = """
import json
import llvmlite.binding
from engine.accelerate import KERNEL_MATH_FUNCTIONS, bind_bare_math
import engine.kernels.paths  # compiles nothing; decorating the kernels binds when asked
print(json.dumps({name: llvmlite.binding.address_of_symbol(name) for name in KERNEL_MATH_FUNCTIONS}
                 | {"bare": bind_bare_math()}))
"""


def _symbols(env_value):
    env = {k: v for k, v in os.environ.items() if k != BARE_MATH_ENV}
    if env_value is not None:
        env[BARE_MATH_ENV] = env_value
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", BOUND_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's bare entries only")
def test_bare_math_is_bound_only_when_asked():
    """Off by default: importing the kernels leaves numba's symbols as they were; with
    RMP_RISK_BARE_MATH=1 they point at glibc's bare entries, with a warning."""
    off, off_err = _symbols(None)
    on, on_err = _symbols("1")
    bare = on.pop("bare")
    off.pop("bare")
    assert sorted(bare) == sorted(KERNEL_MATH_FUNCTIONS)
    for name in KERNEL_MATH_FUNCTIONS:
        assert on[name] == bare[name] and off[name] != bare[name]
    assert BARE_MATH_ENV in on_err and BARE_MATH_ENV not in off_err


def test_bind_bare_math_off_glibc_binds_nothing():
    if platform.libc_ver()[0] != "glibc":
        assert bind_bare_math() == {}


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_paused_restores_the_collector_as_it_was(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() == enabled
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("a failed compilation")
        assert gc.isenabled() == enabled
    finally:
        gc.enable()
