tracing {
  propagator    = "w3x"
  sampling      = 1.5
  baggage       = ["run", "scenaro", "run"]
  otlp_endpoint = "127.0.0.1:4318/v1/traces"
  otlp_headers  = { Authorization = env("OTLP_TOKEN") }
}

tracing {
  propagator = "b3"
}

target "api" {
  base_url = "http://127.0.0.1:8000"
  tracing {
    propagator    = "zipkin"
    sampling      = -0.1
    otlp_endpoint = "http://127.0.0.1:4318/v1/traces"
  }
}

target "secret" {
  base_url = "http://127.0.0.1:8001"
}

tracing {
  otlp_endpoint = env("OTLP_ENDPOINT")
}

scenario "s" {
  target = target.api
  http "a" {
    path = "/"
  }
}

load {
  stage {
    duration = "1s"
    target   = 1
  }
}
