# -*- encoding: utf-8 -*-
# stub: fluent-plugin-kubernetes_metadata_filter 2.11.1 ruby lib

Gem::Specification.new do |s|
  s.name = "fluent-plugin-kubernetes_metadata_filter".freeze
  s.version = "2.11.1"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Jimmi Dyson".freeze]
  s.date = "2022-06-14"
  s.description = "Filter plugin to add Kubernetes metadata".freeze
  s.email = ["jimmidyson@gmail.com".freeze]
  s.homepage = "https://github.com/fabric8io/fluent-plugin-kubernetes_metadata_filter".freeze
  s.licenses = ["Apache-2.0".freeze]
  s.required_ruby_version = Gem::Requirement.new(">= 2.6.0".freeze)
  s.rubygems_version = "3.3.26".freeze
  s.summary = "Fluentd filter plugin to add Kubernetes metadata".freeze

  s.installed_by_version = "3.3.26" if s.respond_to? :installed_by_version

  if s.respond_to? :specification_version then
    s.specification_version = 4
  end

  if s.respond_to? :add_runtime_dependency then
    s.add_runtime_dependency(%q<fluentd>.freeze, [">= 0.14.0", "< 1.16"])
    s.add_runtime_dependency(%q<kubeclient>.freeze, [">= 4.0.0", "< 5.0.0"])
    s.add_runtime_dependency(%q<lru_redux>.freeze, [">= 0"])
  else
    s.add_dependency(%q<fluentd>.freeze, [">= 0.14.0", "< 1.16"])
    s.add_dependency(%q<kubeclient>.freeze, [">= 4.0.0", "< 5.0.0"])
    s.add_dependency(%q<lru_redux>.freeze, [">= 0"])
  end
end
