"""The plugin's ``zammad_requests`` fixture and the N+1 warning of its ``zammad_client``, in pytester runs."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
filterwarnings = error
addopts = -p no:cacheprovider -p no:randomly
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_at_most_and_exactly_pass_and_fail_with_the_requests_listed(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_counts="""
        import pytest
        import zammad_orm

        def test_within(zammad_client, zammad_requests):
            with zammad_requests.at_most(2) as log:
                zammad_client.tickets.get(1)
            assert [r.endpoint for r in log] == ["tickets/{id}"]
            with zammad_requests.exactly(2):
                zammad_client.tickets.get(1)
                zammad_client.users.get(1)
            with zammad_requests.exactly(0):
                zammad_client.tickets[1]  # the identity map answers

        def test_too_many(zammad_client, zammad_requests):
            with zammad_requests.at_most(1):
                zammad_client.tickets.get(1)
                zammad_client.users.get(1)

        def test_too_few(zammad_client, zammad_requests):
            with zammad_requests.exactly(3):
                zammad_client.tickets.get(1)

        def test_a_given_client(zammad_emulator, zammad_requests):
            mine = zammad_emulator.client()
            with zammad_requests.exactly(1, client=mine):
                mine.tickets.get(1)

        def test_the_default_client(zammad_emulator, zammad_requests):
            client = zammad_emulator.client()
            with client.activate(), zammad_requests.exactly(1):
                zammad_orm.Ticket.objects.get(1)

        def test_no_client_at_all(zammad_requests):
            with pytest.raises(zammad_orm.ConfigurationError, match="no Zammad client"):
                with zammad_requests.at_most(1):
                    pass

        def test_an_exception_in_the_block_goes_on(zammad_client, zammad_requests):
            with pytest.raises(KeyError):
                with zammad_requests.exactly(0):
                    zammad_client.tickets.get(1)
                    raise KeyError("mine")
        """
    )
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=5, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: expected at most 1 request, 2 were sent:",
            "*1. GET tickets/1 -> 200 (* bytes, * ms)",
            "*2. GET users/1 -> 200 (* bytes, * ms)",
        ]
    )
    assert "AssertionError: expected exactly 3 requests, 1 was sent:" in result.stdout.str()


def test_the_zammad_client_fails_a_test_with_an_n_plus_one_loop(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_loop="""
        def test_one_request_per_customer(zammad_client):
            for pk in range(1, 31):
                ticket = zammad_client.tickets.get(pk)
                zammad_client.cache.clear("User")
                ticket.customer.login

        def test_the_plain_loop_is_fine(zammad_client):
            rows = [
                (t.state.name, t.priority.name, t.group.name, t.owner.login, t.customer.email, t.organization)
                for t in zammad_client.tickets.filter(id__lte=30).order_by("id")
            ]
            assert len(rows) == 30
        """
    )
    result = project.runpytest_subprocess("--zammad-demo", "30")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*NPlusOneWarning: N+1 requests: 5 reads of Ticket.customer*"])
    assert "select_related('customer')" in result.stdout.str()
