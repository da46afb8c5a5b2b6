"""Experiments that reproduce the paper's findings on the synthetic benchmark."""

from engine.experiments.budgets import BUDGETS, Budget, get_budget
from engine.experiments.runner import ExperimentConfig, run_experiment

__all__ = ["BUDGETS", "Budget", "ExperimentConfig", "get_budget", "run_experiment"]
