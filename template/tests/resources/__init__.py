"""Tests of the resources added with `flask scaffold`, a package each."""
