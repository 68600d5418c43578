"""Reading SAM / CloudFormation templates, with the short-form intrinsic tags (!Ref, !GetAtt...).

The tags become their long forms (``{"Ref": x}``, ``{"Fn::GetAtt": [r, a]}``) so later stages
see one representation, as CloudFormation itself does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from headwater.errors import ValidationError

_SCALAR_TAGS = ("Ref", "Condition")
_FN_TAGS = (
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Base64",
    "Cidr",
)


class _Loader(yaml.SafeLoader):
    pass


def _construct(tag: str) -> Any:
    def build(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        key = tag if tag in _SCALAR_TAGS else f"Fn::{tag}"
        return {key: value}

    return build


for _tag in (*_SCALAR_TAGS, *_FN_TAGS):
    _Loader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read template {path}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ValidationError(f"template {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ValidationError(f"template {path} has no Resources section")
    return data
