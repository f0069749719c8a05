"""The emulator's own .airflowignore: regexp (Airflow 2) and glob (Airflow 3), walked as Airflow walks the folder."""

from __future__ import annotations

import pytest

from mwaa_cp_local.mwaa.airflowignore import AirflowIgnore, Syntax


def visible(syntax: Syntax, ignore_files: dict[str, str], paths: list[str]) -> list[str]:
    ignore = AirflowIgnore(ignore_files, syntax)
    return [path for path in paths if not ignore.is_ignored(path)]


def test_no_airflowignore_ignores_nothing() -> None:
    assert visible("glob", {}, ["a.py", "team/b.py"]) == ["a.py", "team/b.py"]


def test_the_folder_is_built_from_the_files_named_airflowignore() -> None:
    ignore = AirflowIgnore.of_folder(
        [(".airflowignore", b"scratch\n"), ("team/.airflowignore", b"draft\n"), ("a.py", b"draft")], "regexp"
    )

    assert ignore.is_ignored("scratch.py")
    assert ignore.is_ignored("team/draft.py")
    assert not ignore.is_ignored("draft.py")


# ------------------------------------------------------------------------------- regexp (Airflow 2)


def test_a_regexp_is_searched_anywhere_in_the_path_from_the_dags_folder() -> None:
    paths = ["scratch_a.py", "team/scratch_b.py", "my_scratch_c.py", "hello.py"]

    assert visible("regexp", {"": "scratch_\n"}, paths) == ["hello.py"]


def test_a_nested_regexp_is_matched_against_the_path_from_the_dags_folder_not_its_own_folder() -> None:
    # The path Airflow searches is "team/draft_one.py", so "^draft_" in team/.airflowignore never matches it.
    assert visible("regexp", {"team": "^draft_\n"}, ["team/draft_one.py"]) == ["team/draft_one.py"]
    assert visible("regexp", {"team": "^team/draft_\n"}, ["team/draft_one.py"]) == []


def test_a_nested_regexp_applies_only_inside_its_folder() -> None:
    paths = ["draft.py", "team/draft.py", "other/draft.py"]

    assert visible("regexp", {"team": "draft\n"}, paths) == ["draft.py", "other/draft.py"]


def test_a_folder_a_regexp_matches_is_skipped_with_everything_below_it() -> None:
    # "^vendor$" matches the folder "vendor", never the path of a file inside it.
    paths = ["vendor/a.py", "vendor/deep/b.py", "vendor_dag.py"]

    assert visible("regexp", {"": "^vendor$\n"}, paths) == ["vendor_dag.py"]


def test_an_airflowignore_inside_a_skipped_folder_is_never_read() -> None:
    ignore = AirflowIgnore({"": "^vendor$\n", "vendor": "[unclosed\n"}, "regexp")

    assert ignore.is_ignored("vendor/a.py")


def test_comments_and_blank_lines_are_dropped_and_a_hash_ends_the_pattern_anywhere() -> None:
    ignore_file = "# drafts stay out\n\nscratch   # while we experiment\nnotes#.py\n"
    paths = ["scratch.py", "notes_a.py", "hello.py"]

    assert visible("regexp", {"": ignore_file}, paths) == ["hello.py"]


def test_an_invalid_regexp_is_dropped_and_the_other_patterns_still_apply() -> None:
    assert visible("regexp", {"": "[unclosed\nscratch\n"}, ["scratch.py", "hello.py"]) == ["hello.py"]


def test_windows_line_endings_end_a_regexp_like_newlines() -> None:
    # Airflow reads the file in text mode, so "scratch\r\n" is the pattern "scratch".
    assert visible("regexp", {"": "scratch\r\nwip\r\n"}, ["scratch.py", "wip.py", "hello.py"]) == ["hello.py"]


def test_look_ahead_is_honoured_because_the_emulator_compiles_with_pythons_re() -> None:
    assert visible("regexp", {"": "^(?!keep).*_old\\.py\n"}, ["a_old.py", "keep_old.py"]) == ["keep_old.py"]


def test_a_glob_looking_pattern_is_a_regexp_on_airflow_2() -> None:
    # "*_wip.py" is not a valid regexp (nothing to repeat): dropped, so nothing is ignored.
    assert visible("regexp", {"": "*_wip.py\n"}, ["a_wip.py"]) == ["a_wip.py"]


# ------------------------------------------------------------------------------- glob (Airflow 3)


def test_a_glob_without_a_slash_matches_a_name_at_any_depth() -> None:
    paths = ["a_wip.py", "team/b_wip.py", "team/deep/c_wip.py", "hello.py"]

    assert visible("glob", {"": "*_wip.py\n"}, paths) == ["hello.py"]


def test_a_glob_with_a_slash_in_the_middle_is_relative_to_its_own_airflowignore() -> None:
    paths = ["team/drafts/a.py", "drafts/b.py", "team/x/drafts/c.py"]

    assert visible("glob", {"team": "drafts/*.py\n"}, paths) == ["drafts/b.py", "team/x/drafts/c.py"]


def test_a_leading_slash_anchors_a_glob_to_its_folder() -> None:
    assert visible("glob", {"": "/scratch.py\n"}, ["scratch.py", "team/scratch.py"]) == ["team/scratch.py"]


def test_a_glob_ending_in_a_slash_matches_folders_only() -> None:
    paths = ["build/a.py", "team/build/b.py", "build.py"]

    assert visible("glob", {"": "build/\n"}, paths) == ["build.py"]


def test_a_glob_without_a_trailing_slash_also_skips_a_folder_of_that_name() -> None:
    assert visible("glob", {"": "scratch\n"}, ["scratch/a.py", "scratch_b.py"]) == ["scratch_b.py"]


def test_double_star_matches_any_number_of_folders() -> None:
    paths = ["tmp/a.py", "team/tmp/b.py", "team/deep/tmp/c.py", "team/d.py"]

    assert visible("glob", {"": "**/tmp/*.py\n"}, paths) == ["team/d.py"]


def test_a_negated_glob_re_includes_a_file_an_earlier_pattern_ignored() -> None:
    paths = ["keep.py", "other.py"]

    assert visible("glob", {"": "*.py\n!keep.py\n"}, paths) == ["keep.py"]


def test_the_last_matching_glob_wins() -> None:
    assert visible("glob", {"": "!keep.py\n*.py\n"}, ["keep.py"]) == []


def test_a_negated_glob_cannot_re_include_a_file_inside_a_skipped_folder() -> None:
    assert visible("glob", {"": "scratch/\n!scratch/keep.py\n"}, ["scratch/keep.py"]) == []


def test_a_nested_airflowignore_can_re_include_what_its_parent_ignores() -> None:
    ignore_files = {"": "*_test.py\n", "team": "!special_test.py\n"}
    paths = ["special_test.py", "team/special_test.py", "team/other_test.py"]

    assert visible("glob", ignore_files, paths) == ["team/special_test.py"]


def test_a_repeated_glob_keeps_the_place_of_its_first_occurrence() -> None:
    # Airflow drops repeats of a rule it already has, so the second "*.py" does not undo "!keep.py".
    assert visible("glob", {"": "*.py\n!keep.py\n*.py\n"}, ["keep.py", "other.py"]) == ["keep.py"]


def test_a_glob_character_class_and_its_negation() -> None:
    paths = ["scratch_a.py", "scratch_c.py", "draft_1.py", "draft_x.py"]

    assert visible("glob", {"": "scratch_[ab].py\ndraft_[!0-9].py\n"}, paths) == ["scratch_c.py", "draft_1.py"]


@pytest.mark.parametrize("useless", ["/", "!", "trailing\\"])
def test_a_glob_that_matches_nothing_or_does_not_compile_is_dropped(useless: str) -> None:
    assert visible("glob", {"": f"{useless}\nscratch.py\n"}, ["scratch.py", "hello.py"]) == ["hello.py"]


def test_a_regexp_looking_pattern_is_a_literal_glob_on_airflow_3() -> None:
    assert visible("glob", {"": "scratch_.*\n"}, ["scratch_a.py"]) == ["scratch_a.py"]
