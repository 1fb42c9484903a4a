#!/bin/sh
# Container start-up: migrate the database on /data, optionally load ml-100k and train a
# model, then run the command (gunicorn by default). The same steps as `make run`.
set -eu

if [ "${MIGRATE:-1}" = "1" ]; then
    python manage.py migrate --noinput
fi
if [ "${LOAD_MOVIES:-0}" = "1" ]; then
    python manage.py load_movies
fi
if [ "${TRAIN_MODEL:-0}" = "1" ]; then
    python manage.py train_model --if-missing
fi
exec "$@"
