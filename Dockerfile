# Orchestra in a container: `docker build -t orchestra .`, then for example
#   docker run --rm orchestra demo
#   docker run --rm -v "$PWD:/work" -w /work orchestra test order.bpmn --bindings b.yaml --env env.yaml
# It runs as the non-root user `orchestra`. Without ORCHESTRA_DATABASE_URL the embedded
# PostgreSQL starts inside, its data in /home/orchestra/.orchestra (mount a volume there to keep
# it); with ORCHESTRA_DATABASE_URL it uses that server and starts none.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --shell /usr/sbin/nologin orchestra

WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install --constraint constraints.txt . && rm -rf /src

USER orchestra
WORKDIR /home/orchestra
ENV ORCHESTRA_HOME=/home/orchestra/.orchestra
ENTRYPOINT ["orchestra"]
CMD ["--help"]
