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
