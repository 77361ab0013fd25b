// GOV.UK Frontend as an ES module: no inline script is needed beyond the nonce'd template snippet.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

initAll();
