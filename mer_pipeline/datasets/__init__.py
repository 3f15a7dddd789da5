"""Dataset adapters, registered by name; params.yaml `datasets.<name>.adapter` picks one."""

from mer_pipeline.datasets import casme2, casme3, fourdme, mmew, samm, smic
from mer_pipeline.datasets.base import Adapter
from mer_pipeline.registry import Registry

ADAPTERS: Registry[Adapter] = Registry("dataset adapter")
for _module in (casme2, samm, smic, casme3, mmew, fourdme):
    ADAPTERS.register(_module.ADAPTER.name)(_module.ADAPTER)
