# -*- encoding: utf-8 -*-
# stub: kubernetes-io 1.0.0.pre.alpha2 ruby lib

Gem::Specification.new do |s|
  s.name = "kubernetes-io".freeze
  s.version = "1.0.0.pre.alpha2"

  s.required_rubygems_version = Gem::Requirement.new("> 1.3.1".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Kubernetes authors".freeze]
  s.date = "2019-04-01"
  s.description = "This gem maps to a REST API".freeze
  s.homepage = "https://github.com/kubernetes-client/ruby".freeze
  s.licenses = ["Apache-2.0".freeze]
  s.required_ruby_version = Gem::Requirement.new(">= 1.9".freeze)
  s.rubygems_version = "3.3.26".freeze
  s.summary = "Kubernetes ruby client.".freeze

  s.installed_by_version = "3.3.26" if s.respond_to? :installed_by_version

  if s.respond_to? :specification_version then
    s.specification_version = 4
  end

  if s.respond_to? :add_runtime_dependency then
    s.add_runtime_dependency(%q<typhoeus>.freeze, ["~> 1.0", ">= 1.0.1"])
    s.add_runtime_dependency(%q<json>.freeze, ["~> 2.1", ">= 2.1.0"])
  else
    s.add_dependency(%q<typhoeus>.freeze, ["~> 1.0", ">= 1.0.1"])
    s.add_dependency(%q<json>.freeze, ["~> 2.1", ">= 2.1.0"])
  end
end
