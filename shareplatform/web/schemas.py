"""What every feature's API schemas share: strict input, problem details, labels.
Input schemas reject unknown fields (RAISE)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields

from ..domain.agencies import Agency
from ..domain.labels import Caveat, Classification

CLASSIFICATIONS = Classification.markings()
CAVEATS = [c.value for c in Caveat]
AGENCIES = [a.value for a in Agency if a is not Agency.PLATFORM]


class Strict(Schema):
    class Meta:
        unknown = RAISE


# -- problems ---------------------------------------------------------------------------------
class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(
        required=True,
        metadata={"description": "Problem type URI (about:blank for plain HTTP errors)"},
    )
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(
        keys=fields.String(), metadata={"description": "Field name to its error messages"}
    )


# -- common -----------------------------------------------------------------------------------
class LabelSchema(Schema):
    classification = fields.String(required=True, metadata={"enum": CLASSIFICATIONS})
    caveats = fields.List(fields.String(), required=True)
    marking = fields.String(
        required=True,
        metadata={"description": "As printed on a page, e.g. 'OFFICIAL-SENSITIVE / ORCON'"},
    )


def label_dict(label) -> dict[str, object]:
    return {
        "classification": label.classification.marking,
        "caveats": sorted(c.value for c in label.caveats),
        "marking": str(label),
    }
