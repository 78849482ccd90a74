# Consul Connect demo: a dashboard that reads a counter from an API over the service mesh.
# The dashboard reaches count-api only through its sidecar's upstream on localhost:8080; the
# intention count-dashboard → count-api comes from the `consul` stack (Consul denies by default).
# Open the dashboard on its dynamic port: `nomad alloc status` shows it.

variable "datacenters" {
  description = "Nomad datacenters to run in; Bitte supplies every region with clients."
  type        = list(string)
}

job "countdash" {
  datacenters = var.datacenters
  type        = "service"

  group "api" {
    count = 1

    network {
      mode = "bridge"
    }

    service {
      name = "count-api"
      port = "9001"

      connect {
        sidecar_service {}
      }
    }

    task "api" {
      driver = "docker"

      config {
        image = "hashicorpdev/counter-api:v3"
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }

  group "dashboard" {
    count = 1

    network {
      mode = "bridge"

      port "http" {
        to = 9002
      }
    }

    service {
      name = "count-dashboard"
      port = "http"

      connect {
        sidecar_service {
          proxy {
            upstreams {
              destination_name = "count-api"
              local_bind_port  = 8080
            }
          }
        }
      }
    }

    task "dashboard" {
      driver = "docker"

      env {
        # Nomad fills this in at run time with the sidecar upstream's address.
        COUNTING_SERVICE_URL = "http://${NOMAD_UPSTREAM_ADDR_count_api}"
      }

      config {
        image = "hashicorpdev/counter-dashboard:v3"
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
