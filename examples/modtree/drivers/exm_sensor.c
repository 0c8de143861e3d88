// SPDX-License-Identifier: GPL-2.0
/* Depends on two modules: exm_core (GPL export) and exm_bus (EXM_BUS namespace, module-scoped export). */
#include <linux/module.h>
#include <exm/bus.h>

static struct exm_device sensor = { .name = "sensor" };

static int __init exm_sensor_init(void)
{
	int ret = exm_bus_attach(&sensor);

	if (ret)
		return ret;
	exm_bus_calibrate(&sensor, 4);
	pr_info("exm_sensor: id %d reads %d\n", sensor.id, exm_bus_read(&sensor, 7));
	return 0;
}

static void __exit exm_sensor_exit(void)
{
	exm_unregister(&sensor);
}

module_init(exm_sensor_init);
module_exit(exm_sensor_exit);
MODULE_IMPORT_NS(EXM_BUS);
/*
 * Linux 6.12.117 has EXPORT_SYMBOL_GPL_FOR_MODULES() but its modpost and loader treat
 * "module:exm_sensor" as an ordinary namespace, so the named consumer imports it explicitly.
 * From 6.16 the import is implicit and this line is an error.
 */
MODULE_IMPORT_NS(module:exm_sensor);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example tree: sensor driver");
