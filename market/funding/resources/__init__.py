"""The resources list (资源清单): what funders offer and the needs it suits."""
