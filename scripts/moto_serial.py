"""moto's server, answering one request at a time.

moto's stock server handles requests on parallel threads without isolating them: its
DynamoDB TransactWriteItems copies the table, checks the conditions and, when one fails, puts
the old copy back over whatever concurrent requests wrote meanwhile. Real DynamoDB isolates
transactions, and our concurrency tests (1,000 bookings racing for 100 tickets) rely on that,
so the tests run moto single-threaded. Werkzeug then answers over HTTP/1.0, closing each
connection, so an idle client connection never blocks the others; the listen backlog is raised
so a thousand clients connecting at once wait their turn instead of being reset.

Usage: python moto_serial.py HOST PORT
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug import serving

if __name__ == "__main__":
    serving.BaseWSGIServer.request_queue_size = 4096
    serving.run_simple(
        sys.argv[1],
        int(sys.argv[2]),
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )
