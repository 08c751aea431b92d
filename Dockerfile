# The tke-catalog controller image (charts/platform/tke-catalog-controller). It cannot be built on the
# development machine (no container engine there); build it where one runs:
#   docker build -t tke-catalog/controller:0.1.0 .
# helm is built from source like scripts/setup.sh does, so the image carries the helm the tests ran.
ARG HELM_VERSION=v3.22.0

FROM golang:1.25-bookworm AS helm
ARG HELM_VERSION
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN GOBIN=/out go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
        helm.sh/helm/v3/cmd/helm@${HELM_VERSION}

FROM python:3.11-slim-bookworm
COPY --from=helm /out/helm /usr/local/bin/helm
WORKDIR /opt/tke-catalog
# the catalog, charts and schemas the controller plans with (its --root), and the package
COPY pyproject.toml README.md ./
COPY toolkit ./toolkit
COPY catalog ./catalog
COPY charts ./charts
COPY schemas ./schemas
RUN pip install --no-cache-dir . && python -m compileall -q toolkit
ENV TKE_CATALOG_ROOT=/opt/tke-catalog TKE_CATALOG_HELM=/usr/local/bin/helm
USER 65532:65532
ENTRYPOINT ["tke-catalog"]
CMD ["controller"]
