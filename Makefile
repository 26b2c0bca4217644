# The two commands of the README. Both install what they need first (tools/bootstrap.sh).
.PHONY: run test lint

run:
	@bash tools/run.sh

test:
	@bash tools/test.sh

lint:
	@bash tools/lint.sh
