"""Tests of importbridge.polling: schedules, tokens, waits, wait_all."""
