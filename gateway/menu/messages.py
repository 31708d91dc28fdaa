"""Built-in texts the gateway itself says (errors, navigation), per language.

A menu file may override any of them under ``messages:``; a language missing here falls back
to English.
"""

from __future__ import annotations

from collections.abc import Mapping

BUILT_IN: dict[str, dict[str, str]] = {
    "error": {
        "en": "Sorry, something went wrong. Please try again later.",
        "sw": "Samahani, kuna hitilafu. Tafadhali jaribu tena baadaye.",
        "fr": "Désolé, une erreur est survenue. Veuillez réessayer plus tard.",
        "ha": "Yi hakuri, an sami matsala. Da fatan za a sake gwadawa daga baya.",
        "yo": "Ma binu, asise kan sele. Jowo gbiyanju lehin naa.",
        "am": "ይቅርታ፣ ችግር ተፈጥሯል። እባክዎ ቆይተው ይሞክሩ።",
    },
    "unknown_service": {
        "en": "This service code is not in use.",
        "sw": "Namba hii ya huduma haitumiki.",
        "fr": "Ce code de service n'est pas utilisé.",
    },
    "busy": {
        "en": "The service is busy. Please try again in a moment.",
        "sw": "Huduma ina shughuli nyingi. Tafadhali jaribu tena baada ya muda mfupi.",
        "fr": "Le service est occupé. Veuillez réessayer dans un instant.",
    },
    "invalid_choice": {
        "en": "Invalid choice.",
        "sw": "Chaguo si sahihi.",
        "fr": "Choix invalide.",
    },
    "back": {"en": "Back", "sw": "Rudi", "fr": "Retour", "ha": "Koma", "yo": "Pada", "am": "ተመለስ"},
    "more": {"en": "More", "sw": "Zaidi", "fr": "Plus", "ha": "Kari", "yo": "Sii", "am": "ተጨማሪ"},
    "resume_prompt": {
        "en": "Continue where you left off?\n1. Yes\n2. Start over",
        "sw": "Endelea ulipoishia?\n1. Ndiyo\n2. Anza upya",
        "fr": "Reprendre là où vous étiez ?\n1. Oui\n2. Recommencer",
    },
}


def message(
    name: str, language: str, overrides: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """The text ``name`` in ``language``: file override, then built-in, then English."""
    for table in (overrides or {}).get(name), BUILT_IN.get(name):
        if table:
            found = table.get(language) or table.get("en")
            if found:
                return found
    return BUILT_IN["error"]["en"]
