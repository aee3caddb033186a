"""The migration steps, one module each, oldest first (``0001`` … ``HEAD``). Alembic loads them
by path; each states its ``revision`` and ``down_revision``. A step never imports a table from
the code as it is today, except the read models' (``0005``): it writes out the shape of its
own time, so that it means the same whenever it runs."""
