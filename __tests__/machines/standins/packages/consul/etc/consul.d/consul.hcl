# hashicorp/consul .release/linux/package/etc/consul.d/consul.hcl (1.21.4): the package ships only this line.
data_dir = "/opt/consul"
