import dataclasses
import json

import pytest

from engine.calibrate.readers import initial_state
from engine.config import ConfigError, Uniform, default_config_path, load_config
from engine.curves import CURVE_FAMILIES

from .conftest import MODEL_CONFIG, SHIPPED_DEFAULT


def write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_judgement_config_loads(model_config):
    c = model_config
    assert [r.name for r in c.regimes] == ["A", "B", "C", "D"]
    assert c.simulation.horizon_months == 24
    assert c.simulation.start.isoformat() == "2026-01-02"
    assert c.regimes[0].pace_bn == Uniform(20.0, 30.0)
    assert c.regimes[1].pace_bn.is_fixed and c.regimes[1].then_pace_bn == Uniform(20.0, 20.0)
    assert c.regimes[3].weight is None  # D is a reference, not in the mixture
    assert sum(r.weight for r in c.regimes if r.weight is not None) == pytest.approx(1.0)
    assert c.demand_curve.lambda_ == 40.0


@pytest.mark.parametrize("path", [MODEL_CONFIG, SHIPPED_DEFAULT], ids=["judgement", "default"])
def test_initial_state_matches_the_shipped_data(path):
    data = initial_state("2025-12-31")
    ini = load_config(path).initial
    assert ini.reserves_bn == pytest.approx(data["reserves_bn"], rel=1e-12)
    assert ini.soma_bn + ini.other_assets_bn == pytest.approx(data["fed_assets_bn"], rel=1e-12)
    assert ini.tga_bn == pytest.approx(data["tga_bn"], rel=1e-12)
    assert ini.on_rrp_bn == pytest.approx(data["on_rrp_bn"], rel=1e-12)
    if path == MODEL_CONFIG:  # currency grown at 2%/yr from 2023-11 (calibration: its fit)
        assert ini.currency_bn == pytest.approx(data["currency_bn"], abs=0.005)


def test_shipped_default_is_calibrated():
    """The shipped default is `rmp-risk calibrate`'s output on the shipped data."""
    text = SHIPPED_DEFAULT.read_text()
    config = load_config(SHIPPED_DEFAULT)
    assert "rmp-risk calibrate engine/data --since 2021-06-23 --until 2025-12-31" in text
    assert config.initial.as_of.isoformat() == "2025-12-31"
    fitted = [line for line in text.splitlines() if "[F]" in line and "=" in line]
    assert len(fitted) >= 30  # every block the data identify
    for key in ("lambda", "noise_ar", "ar_coefficient", "growth_per_year"):
        assert any(line.startswith(f"{key} =") for line in fitted), key
    assert config.demand_curve.family in CURVE_FAMILIES
    assert config.uncertainty is not None and config.uncertainty.block


@pytest.mark.parametrize("path", [MODEL_CONFIG, SHIPPED_DEFAULT], ids=["judgement", "default"])
def test_every_number_in_the_shipped_configs_has_a_comment(path):
    import re

    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("#")[0]
        if re.search(r"=\s*[\[\-\d]", code) and "#" not in line:
            raise AssertionError(f"{path.name}:{number}: value without a unit/source comment")


def test_packaged_default_is_the_checkout_default():
    assert default_config_path().resolve() == SHIPPED_DEFAULT.resolve()


def test_json_is_stable_and_complete(model_config):
    again = load_config(MODEL_CONFIG)
    assert again.sha256 == model_config.sha256
    plain = json.loads(model_config.to_json())
    assert plain["regimes"]["A"]["pace_bn"] == [20.0, 30.0]
    assert plain["demand_curve"]["lambda"] == 40.0
    assert "source" not in plain


def test_overrides(model_config):
    c = model_config.with_overrides(paths=10, seed=3)
    assert (c.simulation.n_paths, c.simulation.seed) == (10, 3)
    assert c.sha256 != model_config.sha256
    with pytest.raises(ConfigError, match="--paths"):
        model_config.with_overrides(paths=-1)


def test_base_config_and_a_user_regime(tmp_path):
    path = write(
        tmp_path,
        f'base = "{MODEL_CONFIG}"\n'
        "[simulation]\nn_paths = 500\nregimes = ['A', 'E']\n"
        "[regimes.E]\npace_bn = [50, 60]  # $bn/month\nweight = 0.1\n",
    )
    c = load_config(path)
    assert c.simulation.n_paths == 500
    assert c.simulation.seed == 20251201  # inherited
    assert [r.name for r in c.active_regimes] == ["A", "E"]
    assert c.active_regimes[1].pace_bn == Uniform(50.0, 60.0)


def test_base_default_keyword(tmp_path):
    c = load_config(write(tmp_path, 'base = "default"\n[simulation]\nseed = 1\n'))
    assert c.simulation.seed == 1 and len(c.regimes) == 4


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("[simulation]\nn_path = 5\n", "simulation.n_path", "unknown key"),
        ("[simulation]\nn_paths = -5\n", "simulation.n_paths", "must be >= 1"),
        ("[simulation]\nn_paths = 'many'\n", "simulation.n_paths", "expected an integer"),
        ("[simulation]\nn_paths = 1.5\n", "simulation.n_paths", "expected an integer"),
        ("[simulation]\nblock_size = 0\n", "simulation.block_size", "must be >= 1"),
        ("[simulation]\nstart = '2026-01-02'\n", "simulation.start", "expected a date"),
        ("[demand_curve]\nbeta_bp = true\n", "demand_curve.beta_bp", "expected a finite number"),
        ("[regimes.A]\npace_bn = [30, 20]\n", "regimes.A.pace_bn", "low > high"),
        ("[regimes.A]\npace_bn = [1, 2, 3]\n", "regimes.A.pace_bn", "[low, high] of them"),
        ("[regimes.Z]\nweight = 0.1\n", "regimes.Z.pace_bn", "missing required key"),
        ("[regimes.Z]\npace_bn = 5\nthen_pace_bn = 1\n", "regimes.Z", "go together"),
        ("[regimes.Z]\npace_bn = 5\nspeed = 1\n", "regimes.Z.speed", "unknown key"),
        ("[tga.debt_ceiling]\nprobability = 1.5\n", "tga.debt_ceiling.probability", "<= 1"),
        ("[simulation]\nregimes = ['Q']\n", "simulation.regimes", "no regime named"),
        ("[output]\nquantiles = [0.5, 1.5]\n", "output.quantiles", "(0, 1)"),
        ("[spread]\nfloor_bp = 12.0\n", "spread.floor_bp", "below events.tight_bp"),
        ("[spread]\nfloor_bp = -inf\n", "spread.floor_bp", "expected a finite number"),
        ("[tga]\nanchor_bn = [1.0]\n", "tga.anchor_bn", "one value per"),
        ("[tga]\ndaily_sd_bn = inf\n", "tga.daily_sd_bn", "expected a finite number"),
        ("[tga]\ndaily_sd_bn = nan\n", "tga.daily_sd_bn", "expected a finite number"),
        ("[tga]\nanchor_bn = [1.0, -inf]\n", "tga.anchor_bn[1]", "expected a finite number"),
        ("[regimes.A]\npace_bn = [20, inf]\n", "regimes.A.pace_bn", "finite number"),
        ("[simulation]\nseed = 9223372036854775808\n", "simulation.seed", "must be <="),
        ("[simulation]\nn_paths = 1_000_000_000_000_000\n", "simulation.n_paths", "must be <="),
        (
            "[regimes.A]\nweight = 0\n[regimes.B]\nweight = 0\n[regimes.C]\nweight = 0\n",
            "regimes.A.weight",
            "sum to 0",
        ),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path, text, key, message):
    path = write(tmp_path, 'base = "default"\n' + text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert f"{key}:" in str(info.value)
    assert message in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = write(tmp_path, "[simulation\nseed = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(bad)
    assert str(bad) in str(info.value)


def test_a_config_that_is_not_text_names_the_file(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00[simulation]")
    with pytest.raises(ConfigError, match="not UTF-8 text") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_notes_on_weights_and_a_stale_state(tmp_path):
    text = 'base = "default"\n[regimes.A]\nweight = 0.8\n'
    assert "sum to 1.4: they are divided by it" in load_config(write(tmp_path, text)).notes[0]
    late = write(tmp_path, 'base = "default"\n[simulation]\nstart = 2090-01-02\n', "late.toml")
    (note,) = load_config(late).notes
    assert "simulation.start 2090-01-02 is" in note and "older state" in note
    assert load_config(MODEL_CONFIG).notes == ()


def test_missing_section_in_a_standalone_file(tmp_path):
    text = MODEL_CONFIG.read_text().replace("[srf]", "[srf_renamed]")
    with pytest.raises(ConfigError, match="srf_renamed: unknown key"):
        load_config(write(tmp_path, text))


def test_circular_base(tmp_path):
    write(tmp_path, 'base = "b.toml"\n', "a.toml")
    write(tmp_path, 'base = "a.toml"\n', "b.toml")
    with pytest.raises(ConfigError, match="circular"):
        load_config(tmp_path / "a.toml")


def test_config_is_frozen(model_config):
    with pytest.raises(dataclasses.FrozenInstanceError):
        model_config.simulation.n_paths = 3
