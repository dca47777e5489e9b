"""The console's report form, sent by GET: the reports' shared dates and filters (app/portals/report_views.py) and
whose figures, `tenant` as in the console API (empty: every tenant; a code: that reseller with its
sub-resellers). Messages are msgids."""

from __future__ import annotations

from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.portals.report_views import ReportForm

EVERY_TENANT = "Every tenant of the platform"
UNKNOWN_RESELLER = "No reseller has this code: choose one of the list."


class ConsoleReportForm(ReportForm):
    # Not checked against the list: whether the code is a tenant's is the service's answer (scope.of_platform),
    # the API's too; an edited address's code is kept and drawn back with that answer next to it.
    tenant = SelectField(validate_choice=False, default="",
                         validators=[Optional(), Length(max=40, message=UNKNOWN_RESELLER)])

    def offer(self, resellers: list[tuple[str, str]]) -> ConsoleReportForm:
        """The tenants to choose from, (code, label), after "every tenant"; a code asked for that is not among
        them stays chosen, so that the page shows what was asked."""
        offered = [SelectChoice("", EVERY_TENANT), *(SelectChoice(code, label) for code, label in resellers)]
        if self.tenant.data and self.tenant.data not in {c.value for c in offered}:
            offered.append(SelectChoice(self.tenant.data, self.tenant.data))
        self.tenant.choices = offered
        return self
