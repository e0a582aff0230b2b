"""telephony.twiml_http: remembered serialisations are exactly what the twilio library writes."""
from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

from telephony import twiml_http
from telephony.twiml_http import _xml


def question(action: str, text: str, **gather: object) -> VoiceResponse:
    response = VoiceResponse()
    g = Gather(input="dtmf", action=action, method="POST", **gather)
    g.say(text, voice="Polly.Lotte", language="nl-NL")
    response.append(g)
    response.hangup()
    return response


def test_a_remembered_answer_is_the_librarys_own_serialisation() -> None:
    first = question("https://pendel.test/telephony/voice/answer/3", "Toets 1.", num_digits=1)
    again = question("https://pendel.test/telephony/voice/answer/3", "Toets 1.", num_digits=1)
    assert _xml(first) == str(first)
    assert _xml(again) == str(first)


def test_any_difference_in_shape_gives_its_own_serialisation() -> None:
    base = question("https://pendel.test/telephony/voice/answer/3", "Toets 1.", num_digits=1)
    variants = [
        question("https://pendel.test/telephony/voice/answer/4", "Toets 1.", num_digits=1),   # attribute value
        question("https://pendel.test/telephony/voice/answer/3", "Toets 2.", num_digits=1),   # text
        question("https://pendel.test/telephony/voice/answer/3", "Toets 1.", num_digits=2),   # number
        question("https://pendel.test/telephony/voice/answer/3", "Toets 1.", num_digits=True),  # True is not 1
        question("https://pendel.test/telephony/voice/answer/3", "Toets 1."),                 # attribute missing
    ]
    _xml(base)
    seen = {_xml(base)}
    for variant in variants:
        xml = _xml(variant)
        assert xml == str(variant)
        assert xml not in seen
        seen.add(xml)


def test_an_unhashable_attribute_is_serialised_every_time() -> None:
    response = VoiceResponse()
    response.gather(input=["dtmf", "speech"], action="https://pendel.test/x")
    size = len(twiml_http._XML)
    assert _xml(response) == str(response)
    assert len(twiml_http._XML) == size


def test_an_answer_that_dials_is_never_kept() -> None:
    response = VoiceResponse()
    response.say("Ik verbind u door.")
    dial = response.dial(caller_id="+31850000000", action="https://pendel.test/telephony/voice/dialled/2")
    dial.number("+31612345678", url="https://pendel.test/telephony/voice/screen")
    size = len(twiml_http._XML)
    assert _xml(response) == str(response)
    assert len(twiml_http._XML) == size
    assert not any("+31612345678" in xml for xml in twiml_http._XML.values())


def test_a_full_cache_starts_again_rather_than_growing() -> None:
    for n in range(twiml_http._XML_MAX + 10):
        _xml(question(f"https://pendel.test/telephony/voice/answer/{n}", "Toets 1.", num_digits=1))
    assert len(twiml_http._XML) <= twiml_http._XML_MAX
