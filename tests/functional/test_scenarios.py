"""The shared scenarios (tests/functional/scenarios.py) bound to WebTest (conftest.py)."""

from tests.functional import scenarios


class TestHitAndMiss(scenarios.HitAndMissScenarios):
    pass


class TestReport(scenarios.ReportScenarios):
    pass


class TestNames(scenarios.NameScenarios):
    pass


class TestLegacyAndTry(scenarios.LegacyAndTryScenarios):
    pass


class TestCheapAnswers(scenarios.CheapAnswerScenarios):
    pass


class TestFreshness(scenarios.FreshnessScenarios):
    pass


class TestStorageOutage(scenarios.StorageOutageScenarios):
    pass


class TestLocalServing(scenarios.LocalServingScenarios):
    pass
