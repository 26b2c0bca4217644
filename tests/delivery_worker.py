"""A delivery worker in a process of its own, for the tests that kill it (``kill -9``).

It loads the registry, says "ready", waits for a line on its input (so that a test can start the
next worker while the current one delivers), then runs the given scheduled jobs exactly as a cron
worker of Odoo does (``ir.cron``'s own loop: acquire the job when it is ready, run it with its
progress records, reschedule it), again and again until it is killed::

    python delivery_worker.py <odoo config> <database> <job id>[,<job id>...]

Not a test module: the tests start it with ``subprocess``."""

import sys
import time


def main():
    config, database, job_ids = sys.argv[1], sys.argv[2], [int(job) for job in sys.argv[3].split(",")]
    import odoo  # noqa: PLC0415 - the process is started without Odoo loaded
    from odoo import sql_db  # noqa: PLC0415
    from odoo.addons.base.models.ir_cron import IrCron  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(["-c", config, "--log-level=warn"])
    Registry(database)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    while True:
        with sql_db.db_connect(database).cursor() as cron_cr:
            IrCron._process_jobs_loop(cron_cr, job_ids=job_ids)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
