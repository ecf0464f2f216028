"""Settings: camelCase decoding, layering, errors that name the field."""

import re

import pytest
import torch

from lsp_server.config import (
    DEFAULT_MODEL_PATH,
    ConfigError,
    ServerConfig,
    decode,
    settings_section,
)


def test_defaults_point_at_the_shipped_weights():
    cfg = decode()
    assert cfg == ServerConfig()
    assert cfg.model_path == str(DEFAULT_MODEL_PATH)
    assert DEFAULT_MODEL_PATH.parts[-2:] == ("model", "weights")
    assert cfg.device == "cpu"
    assert cfg.features.inline_completion and cfg.features.fix_function


def test_camel_case_keys_and_nested_features():
    cfg = decode({"modelPath": "/m", "stepsPerToken": 0.5, "maxSpanTokens": 64,
                  "features": {"inlineCompletion": False}})
    assert (cfg.model_path, cfg.steps_per_token, cfg.max_span_tokens) == ("/m", 0.5, 64)
    assert cfg.features.inline_completion is False
    assert cfg.features.docstring is True


def test_disabled_languages_are_client_language_ids():
    cfg = decode({"disabledLanguages": ["markdown", "javascriptreact"]})
    assert not cfg.suggests_in("markdown") and not cfg.suggests_in("javascriptreact")
    assert cfg.suggests_in("javascript") and cfg.suggests_in(None)
    assert ServerConfig().suggests_in("markdown")


def test_layers_merge_deeply_and_none_means_unset():
    init = {"modelPath": "/from/init", "features": {"completion": False}}
    changed = {"threshold": 0.5, "modelPath": None, "features": {"docstring": False}}
    cfg = decode(init, changed)
    assert cfg.model_path == "/from/init"
    assert cfg.threshold == 0.5
    assert (cfg.features.completion, cfg.features.docstring) == (False, False)
    assert decode({"features": {"completion": None}}) == ServerConfig()  # no base to merge into


def test_empty_model_path_means_default():
    assert decode({"modelPath": ""}).model_path == str(DEFAULT_MODEL_PATH)


def test_model_key_changes_only_with_path_device_or_precision():
    base = decode({"modelPath": "/m"})
    assert decode({"modelPath": "/m", "threshold": 0.3}).model_key() == base.model_key()
    assert decode({"modelPath": "/m", "device": "cuda:0"}).model_key() != base.model_key()
    assert decode({"modelPath": "/m", "precision": "float32"}).model_key() != base.model_key()
    assert base.precision == "auto"
    with pytest.raises(ConfigError, match="precision"):
        decode({"precision": "int8"})


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"threshold": 2}, "$.threshold"),
        ({"stepsPerToken": "fast"}, "$.stepsPerToken"),
        ({"device": "tpu"}, "$.device"),
        ({"features": {"fixFunction": "yes"}}, "$.features.fixFunction"),
        ({"debounceMs": -1}, "$.debounceMs"),
        ({"logLevel": "loud"}, "$.logLevel"),
        ({"lengthSearch": "sometimes"}, "$.lengthSearch"),
        ({"fixMargin": -1}, "$.fixMargin"),
        ({"disabledLanguages": "markdown"}, "$.disabledLanguages"),
        ({"disabledLanguages": ["go", ""]}, "$.disabledLanguages[1]"),
    ],
)
def test_invalid_values_name_the_field(settings, field):
    with pytest.raises(ConfigError, match=re.escape(field)):
        decode(settings)


@pytest.mark.parametrize("settings", [{"threshold": "\ud800"}, {"modelPath": "/m/\ud800"}])
def test_lone_surrogates_are_a_config_error(settings):
    with pytest.raises(ConfigError, match="surrogate"):
        decode(settings)


def test_non_object_settings_are_an_error():
    with pytest.raises(ConfigError, match="Expected `object`"):
        decode([1, 2])


def test_unknown_keys_are_ignored_with_a_warning(caplog):
    assert decode({"treshold": 0.1}).threshold == ServerConfig().threshold
    assert "treshold" in caplog.text


def test_settings_section_prefers_infill():
    assert settings_section({"infill": {"device": "cpu"}, "other": 1}) == {"device": "cpu"}
    assert settings_section({"device": "cpu"}) == {"device": "cpu"}
    assert settings_section(None) is None


def test_the_server_bounds_onednn_caches_unless_told(monkeypatch, tiny_checkpoint):
    """bf16 matmuls keep one oneDNN primitive per shape: the server keeps 64, or the user's."""
    import os

    from lsp_server import server

    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    engine = server.load_engine(str(tiny_checkpoint), "cpu", "bfloat16")
    assert engine.dtype == torch.bfloat16
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == str(server.ONEDNN_CACHE) == "64"
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
    server.load_engine(str(tiny_checkpoint), "cpu", "float32")
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "8"


def test_decoding_defaults_follow_how_fast_the_model_computes_and_who_asked():
    cfg = decode({})
    assert cfg.threshold is None and cfg.steps_per_token is None
    assert cfg.decoding(fast=False) == (0.5, 0.125)
    assert cfg.decoding(fast=True) == cfg.decoding(fast=False, explicit=True) == (0.9, 0.5)
    assert cfg.decoding(fast=True, explicit=True) == (0.9, 1.0)
    # an empty line's block: at least BLOCK, whoever asked
    assert cfg.decoding(False, block=True) == cfg.decoding(True, block=True) == (0.9, 0.75)
    assert cfg.decoding(fast=False, explicit=True, block=True) == (0.9, 0.75)
    assert cfg.decoding(fast=True, explicit=True, block=True) == (0.9, 1.0)
    assert decode({"threshold": 0.5, "stepsPerToken": 0.125}).decoding(False, block=True) == (
        0.5, 0.125)
    chosen = decode({"threshold": 0.7})
    assert chosen.decoding(True) == (0.7, 0.5) and chosen.decoding(False) == (0.7, 0.125)
    assert decode({"stepsPerToken": 0.25}).decoding(True, explicit=True) == (0.9, 0.25)


def test_context_defaults_to_short_only_for_typing_where_the_model_computes_slowly():
    cfg = decode({})
    assert cfg.context_tokens is None
    assert cfg.context(fast=False) == 256
    assert cfg.context(fast=True) == cfg.context(fast=False, explicit=True) == 384
    assert decode({"contextTokens": 1024}).context(fast=False) == 1024
    with pytest.raises(ConfigError, match="contextTokens"):
        decode({"contextTokens": 8})
