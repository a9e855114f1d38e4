"""The personas' console sessions: Alice (admin), Bob (read-only) and Charlie (another
MSP's admin), each signed in."""

import pytest


@pytest.fixture
def alice_client(signed_in, alice):
    return signed_in(alice)


@pytest.fixture
def bob_client(signed_in, bob):
    return signed_in(bob)


@pytest.fixture
def charlie_client(signed_in, charlie):
    return signed_in(charlie)
