"""Strict request parsing shared by every API input: the original's wording, JSON types
taken at their word, unknown keys refused, every problem reported at once."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

NOT_AN_OBJECT = "Missing JSON request: the body must be a JSON object."


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's own field would also take "30", 30.0 and true."""

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's own field would turn 123 into "123"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: DRF's own field would also take "yes", 1 and "on"."""

    def to_internal_value(self, data):
        if type(data) is not bool:
            self.fail("invalid")
        return data


def integer_field(name: str, low: int, high: int, **kwargs) -> StrictIntegerField:
    not_integer = f"The parameter '{name}' must be an integer"
    out_of_range = f"The parameter '{name}' must be between {low} and {high}"
    return StrictIntegerField(
        min_value=low,
        max_value=high,
        error_messages={
            "required": f"Missing parameter: '{name}'",
            "null": not_integer,
            "invalid": not_integer,
            "min_value": out_of_range,
            "max_value": out_of_range,
            "max_string_length": not_integer,
        },
        **kwargs,
    )


def choice_field(name: str, choices: list[str], **kwargs) -> serializers.ChoiceField:
    listed = ", ".join(f"'{c}'" for c in choices)
    must_be = f"The parameter '{name}' must be one of the following: {listed}"
    return serializers.ChoiceField(
        choices=choices,
        error_messages={
            "required": f"Missing parameter: '{name}'",
            "null": must_be,
            "invalid_choice": must_be,
        },
        **kwargs,
    )


def string_field(name: str, **kwargs) -> StrictCharField:
    return StrictCharField(
        trim_whitespace=False,
        error_messages={
            "required": f"Missing parameter: '{name}'",
            "null": f"The parameter '{name}' must be a string",
            "invalid": f"The parameter '{name}' must be a string",
            "blank": f"The parameter '{name}' may not be blank",
        },
        **kwargs,
    )


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses non-objects and unknown keys alongside field errors."""

    def run_validation(self, data=serializers.empty):
        if not isinstance(data, Mapping):
            raise ValidationError(
                {"non_field_errors": [ErrorDetail(NOT_AN_OBJECT, code="not_an_object")]}
            )
        return super().run_validation(data)

    def to_internal_value(self, data):
        valid = ", ".join(f"'{name}'" for name in self.fields)
        errors = {
            key: [ErrorDetail(f"The only valid parameters are: {valid}", code="unknown")]
            for key in data
            if key not in self.fields
        }
        try:
            values = super().to_internal_value(data)
        except ValidationError as exc:
            errors.update(exc.detail)
        if errors:
            raise ValidationError(errors)
        return values
