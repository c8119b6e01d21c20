// Pages whose only script need is copy buttons (<button data-copy="#field">) load this module.
import { setUpCopyButtons } from "./copy.js";

setUpCopyButtons();
