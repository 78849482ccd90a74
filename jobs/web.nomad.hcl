# A public web service behind the routing group: https://www.<domain> (route `www` → `web` in
# the cluster spec). HAProxy finds the instances through Consul DNS (SRV `_web._tcp.service.consul`),
# so the service registers the host's address and the dynamic host port Nomad maps to port 80.
# Only instances passing the health check are in DNS, and so in HAProxy.

variable "datacenters" {
  description = "Nomad datacenters to run in; Bitte supplies every region with clients."
  type        = list(string)
}

variable "domain" {
  description = "The cluster domain; Bitte supplies it."
  type        = string
}

variable "image" {
  description = "Container image of the web server."
  type        = string
  default     = "traefik/whoami:v1.10.3"
}

job "web" {
  datacenters = var.datacenters
  type        = "service"

  meta {
    public_url = "https://www.${var.domain}"
  }

  # Rolling deploys: one instance at a time, each healthy for 10s before the next; a failed
  # rollout reverts to the last good version.
  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "web" {
    count = 2

    # Bounds for the Nomad Autoscaler (or `nomad job scale`); count is the initial size.
    scaling {
      enabled = true
      min     = 2
      max     = 10
    }

    spread {
      attribute = "${node.datacenter}"
    }

    network {
      port "http" {
        to = 80
      }
    }

    service {
      name = "web"
      port = "http"
      tags = ["ingress"]

      check {
        name     = "web-health"
        type     = "http"
        path     = "/health"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "whoami" {
      driver = "docker"

      config {
        image = var.image
        ports = ["http"]
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
