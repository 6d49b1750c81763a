"""The screening vocabulary is compiled on first use, not at import, and its reason codes (read from the
terms file without compiling) are the compiled categories in severity order."""

from __future__ import annotations

import subprocess
import sys

from xiaodai.collections.content_screen import REASON_CODES, TERMS_VERSION, screen_message
from xiaodai.collections.content_screen_types import ScreenContext
from xiaodai.collections.content_screen_vocabulary import vocabulary


def test_reason_codes_and_version_are_the_compiled_vocabularys() -> None:
    assert tuple(category.code for category in vocabulary().categories) == REASON_CODES
    assert vocabulary().version == TERMS_VERSION


def test_importing_the_collections_engine_compiles_nothing_until_a_message_is_screened() -> None:
    probe = (
        "import xiaodai.collections.contact_policy, xiaodai.cli.main\n"
        "from xiaodai.collections import content_screen_vocabulary as v\n"
        "print(v.vocabulary.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"
    screen_message("您好，请按时还款。", profile="CN", context=ScreenContext("sms"))
    assert vocabulary.cache_info().currsize == 1  # screening built it (here or in an earlier test)
