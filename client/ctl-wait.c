/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* wait: Manager.WaitForDevice, a wait for one device instead of `udevadm settle`. */

int verb_wait(const VerbCall *call) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *state = verb_call_value(call, "state") ?: "present", *timeout = verb_call_value(call, "timeout"), *path;
        uint64_t timeout_usec = 30 * UINT64_C(1000000);
        int r;

        if (timeout) {
                char *end;
                double seconds = strtod(timeout, &end);

                if (*end || !(seconds > 0 && seconds <= 300))
                        return usage_error("--timeout takes seconds above 0, up to 300, not \"%s\"", timeout);
                timeout_usec = (uint64_t) (seconds * 1000000 + 0.5);
        }
        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "WaitForDevice");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssa{sv}", call->args[0], state, 1, DMBUS_OPTION_TIMEOUT_USEC, "t", timeout_usec);
        if (r < 0)
                return failure_exit(r, "cannot build the call");
        /* The service answers Timeout itself: give it the time to. */
        r = sd_bus_call(bus, m, timeout_usec + 10 * UINT64_C(1000000), &error, &reply);
        if (r < 0)
                return bus_error_exit(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return failure_exit(r, "cannot read the reply");
        printf("%s\n", path);
        return 0;
}
