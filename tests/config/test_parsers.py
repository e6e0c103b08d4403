"""PHP-style bracket keys read into nested data, as the original's form clients send them."""

import pytest
from django.http import QueryDict
from rest_framework.exceptions import ParseError

from config.api.errors import flatten_errors
from config.api.parsers import nest_form_data


def nest(body: str):
    return nest_form_data(QueryDict(body))


def test_bracket_keys_nest_and_contiguous_indexes_become_lists() -> None:
    data = nest("claimant[name]=Ada&claimant[data][0][id]=a&claimant[data][0][value]=1&claimant[data][1][id]=b&x=")
    assert data == {
        "claimant": {"name": "Ada", "data": [{"id": "a", "value": "1"}, {"id": "b"}]},
        "x": None,  # an empty string is null
    }


def test_sparse_indexes_stay_keyed_so_errors_name_them() -> None:
    assert nest("claimant[data][3][id]=a") == {"claimant": {"data": {"3": {"id": "a"}}}}


def test_repeated_key_keeps_the_last_value_and_empty_brackets_append() -> None:
    assert nest("a=1&a=2") == {"a": "2"}
    assert nest("tags[]=x&tags[]=y") == {"tags": ["x", "y"]}


def test_non_ascii_digits_are_keys_not_indexes() -> None:
    # str.isdigit() says yes to "¹" and "٣"; int() would then fail (a 500 found by fuzzing).
    assert nest("a[¹]=1&b[٣]=2") == {"a": {"¹": "1"}, "b": {"٣": "2"}}


def test_a_body_of_numbered_keys_stays_an_object() -> None:
    assert nest("0=a&1=b") == {"0": "a", "1": "b"}


def test_malformed_brackets_are_a_literal_key() -> None:
    assert nest("a[b=1") == {"a[b": "1"}


@pytest.mark.parametrize("body", ["a=1&a[b]=2", "a[b]=2&a=1"])
def test_a_key_both_value_and_container_is_a_parse_error(body: str) -> None:
    with pytest.raises(ParseError):
        nest(body)


def test_depth_is_limited() -> None:
    with pytest.raises(ParseError, match="nested"):
        nest("a" + "[b]" * 50 + "=1")


def test_flatten_errors_uses_dot_paths_and_names_fields() -> None:
    detail = {
        "duration_in_minutes": ["This field may not be null."],
        "claimant": {"data": {3: {"value": ["Bad."]}}, "non_field_errors": ["Whole claimant."]},
        "items": [{}, {"id": ["Must be a valid UUID."]}],
    }
    assert flatten_errors(detail) == {
        "duration_in_minutes": ["The duration in minutes field may not be null."],
        "claimant.data.3.value": ["Bad."],
        "claimant": ["Whole claimant."],
        "items.1.id": ["Must be a valid UUID."],
    }
