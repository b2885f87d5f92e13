# Extra ctest labels for tests that use an outside tool (read by ctest after doctest's
# test discovery; a second LABELS would replace the folder label, so both are listed).
set_tests_properties("cli/status page: headless Chromium draws it" PROPERTIES LABELS "cli;browser")
set_tests_properties("cli/metrics server: a real Prometheus scrapes it"
                     "cli/prometheus_text: promtool check metrics finds no problem"
                     PROPERTIES LABELS "cli;prometheus")
