"""Strict request parsing shared by every API input: the original's wording, JSON types
taken at their word, unknown keys refused, every problem reported at once."""

import functools
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
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


def choice_field(name: str, choices: Sequence[str], **kwargs) -> serializers.ChoiceField:
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
        """A body of plain values (a JSON integer within an integer field's validators, a
        string among a choice field's choices, a value its field's ``plain_value`` takes)
        is taken without DRF's machinery, which costs more than the checks themselves;
        anything else goes through DRF, which words every problem. Both read the same
        fields: the rules exist once."""
        if not isinstance(data, Mapping):
            raise ValidationError(
                {"non_field_errors": [ErrorDetail(NOT_AN_OBJECT, code="not_an_object")]}
            )
        values = self.plain_values(data)
        return super().run_validation(data) if values is None else values

    @functools.cached_property
    def _plain_readers(self) -> dict | None:
        """Each field's reader of plain values, None for a field that has none; None for a
        serializer whose own checks (``validate``, validators) must always run."""
        own = type(self)
        if (
            own.validate is not serializers.Serializer.validate
            or own.to_internal_value is not StrictSerializer.to_internal_value
            or self.validators
        ):
            return None
        return {
            name: None if hasattr(self, f"validate_{name}") else _plain_reader(field)
            for name, field in self.fields.items()
        }

    def plain_values(self, data) -> dict | None:
        """The values of a JSON object made of plain values only; None for anything else."""
        readers = self._plain_readers
        if readers is None or type(data) is not dict or not data.keys() <= readers.keys():
            return None
        values = {}
        for name, read in readers.items():
            if name in data:
                value = NOT_PLAIN if read is None else read(data[name])
                if value is NOT_PLAIN:
                    return None
                values[name] = value
            elif self.fields[name].required:
                return None
            elif self.fields[name].default is not serializers.empty:
                values[name] = self.fields[name].get_default()
        return values

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


NOT_PLAIN = object()  # what a plain reader answers for a value that DRF must check


def _plain_reader(field):
    """How ``field`` takes a plain value, from its own definition: its type, choices and
    validators; None for a field without plain values (DRF always checks it)."""
    if getattr(field, "plain_value", None) is not None:
        return field.plain_value
    kind: type
    if isinstance(field, StrictIntegerField):
        kind, convert = int, None
    elif isinstance(field, serializers.ChoiceField) and not field.allow_blank:
        kind, convert = str, field.choice_strings_to_values
    else:
        return None
    validators = field.validators

    def read(value):
        if type(value) is not kind or (convert is not None and value not in convert):
            return NOT_PLAIN
        value = value if convert is None else convert[value]
        try:
            for validator in validators:
                validator(value)
        except DjangoValidationError:
            return NOT_PLAIN
        return value

    return read
