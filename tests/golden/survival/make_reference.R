# Reference numbers for sirtstats.survival, produced by R survival / cmprsk.
#
# Run from this folder:   Rscript make_reference.R
# Writes data/<name>.csv (the inputs, 17 significant digits) and reference/<dataset>.csv (long
# format: dataset, quantity, group, time, value; "NA" = R NA). CI never runs R: the Python
# tests read these files. Versions used are written to versions.txt.
#
# Data sets: the WE25-WE27 worked examples (response-criteria.md), R's lung / veteran / mgus2
# written out from the survival package, seeded synthetic sets (ties-heavy, competing risks
# with and without cross-cause ties, delayed entry, time-dependent response) and edge cases.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
options(warn = 1)
dir.create("data", showWarnings = FALSE)

num <- function(x) {
  out <- ifelse(is.na(x), "NA",
    ifelse(is.infinite(x), ifelse(x > 0, "Inf", "-Inf"), sprintf("%.17g", x)))
  out
}
write_data <- function(df, name) {
  df2 <- df
  for (col in names(df2)) if (is.numeric(df2[[col]])) df2[[col]] <- num(df2[[col]])
  write.csv(df2, file.path("data", paste0(name, ".csv")), row.names = FALSE, quote = FALSE,
            na = "NA")
}

REF <- list()
add <- function(dataset, quantity, value, group = "", time = NA) {
  n <- max(length(value), length(group), length(time))
  REF[[length(REF) + 1]] <<- data.frame(
    dataset = rep(dataset, n), quantity = rep(quantity, n),
    group = rep(as.character(group), length.out = n),
    time = rep(num(time), length.out = n), value = rep(num(value), length.out = n),
    stringsAsFactors = FALSE)
}

CONF <- c("log", "log-log", "plain")

strata_labels <- function(fit, n) {
  if (is.null(fit$strata)) return(rep("", n))
  lab <- rep(names(fit$strata), fit$strata)
  sub(".*=", "", lab)
}

# ---------------------------------------------------------------------------------------------
# Kaplan-Meier: curve, medians + CIs, summary at times, RMST, reverse-KM follow-up
# ---------------------------------------------------------------------------------------------
km_reference <- function(name, d, group = NULL, times = NULL, taus = NULL, entry = FALSE) {
  f <- if (entry) {
    if (is.null(group)) Surv(entry, time, status) ~ 1 else Surv(entry, time, status) ~ group
  } else {
    if (is.null(group)) Surv(time, status) ~ 1 else Surv(time, status) ~ group
  }
  dd <- d
  if (!is.null(group)) dd$group <- d[[group]]
  for (ct in CONF) {
    fit <- survfit(f, data = dd, conf.type = ct)
    g <- strata_labels(fit, length(fit$time))
    if (ct == "log") {
      add(name, "km.n.risk", fit$n.risk, g, fit$time)
      add(name, "km.n.event", fit$n.event, g, fit$time)
      add(name, "km.n.censor", fit$n.censor, g, fit$time)
      add(name, "km.surv", fit$surv, g, fit$time)
      add(name, "km.std.err", fit$std.err, g, fit$time)   # SE of log S (cumhaz scale)
    }
    add(name, paste0("km.lower.", ct), fit$lower, g, fit$time)
    add(name, paste0("km.upper.", ct), fit$upper, g, fit$time)
    q <- quantile(fit, 0.5)
    glab <- if (is.null(fit$strata)) "" else sub(".*=", "", names(fit$strata))
    add(name, paste0("median.", ct), q$quantile, glab)
    add(name, paste0("median.lower.", ct), q$lower, glab)
    add(name, paste0("median.upper.", ct), q$upper, glab)
    if (!is.null(times)) {
      # extend=TRUE, then drop times after a curve's last time (= R's extend=FALSE rows; the
      # extend=FALSE call itself errors when one curve has no row left)
      s <- summary(fit, times = times, extend = TRUE)
      sg <- if (is.null(s$strata)) rep("", length(s$time)) else sub(".*=", "", s$strata)
      gall <- strata_labels(fit, length(fit$time))
      tmax <- tapply(fit$time, gall, max)
      keep <- s$time <= unname(tmax[match(sg, names(tmax))])
      for (fld in c("time", "surv", "n.risk", "std.err", "lower", "upper")) {
        s[[fld]] <- s[[fld]][keep]
      }
      sg <- sg[keep]
      if (ct == "log") {
        add(name, "at.surv", s$surv, sg, s$time)
        add(name, "at.n.risk", s$n.risk, sg, s$time)
        add(name, "at.std.err", s$std.err, sg, s$time)   # SE of S
      }
      add(name, paste0("at.lower.", ct), s$lower, sg, s$time)
      add(name, paste0("at.upper.", ct), s$upper, sg, s$time)
      # extend=TRUE as R returns it (times after a curve's last time included)
      se <- summary(fit, times = times, extend = TRUE)
      seg <- if (is.null(se$strata)) rep("", length(se$time)) else sub(".*=", "", se$strata)
      if (ct == "log") {
        add(name, "ext.surv", se$surv, seg, se$time)
        add(name, "ext.n.risk", se$n.risk, seg, se$time)
      }
      add(name, paste0("ext.lower.", ct), se$lower, seg, se$time)
      add(name, paste0("ext.upper.", ct), se$upper, seg, se$time)
    }
    # reverse KM (median follow-up), no entry
    if (!entry) {
      rf <- if (is.null(group)) Surv(time, 1 - status) ~ 1 else Surv(time, 1 - status) ~ group
      rfit <- survfit(rf, data = dd, conf.type = ct)
      rq <- quantile(rfit, 0.5)
      add(name, paste0("fu.median.", ct), rq$quantile, glab)
      add(name, paste0("fu.lower.", ct), rq$lower, glab)
      add(name, paste0("fu.upper.", ct), rq$upper, glab)
    }
  }
  if (!is.null(taus)) {
    fit <- survfit(f, data = dd)
    glab <- if (is.null(fit$strata)) "" else sub(".*=", "", names(fit$strata))
    for (tau in taus) {
      tab <- summary(fit, rmean = tau)$table
      if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
      add(name, "rmst", tab[, "rmean"], glab, tau)
      add(name, "rmst.se", tab[, "se(rmean)"], glab, tau)
    }
  }
}

# ---------------------------------------------------------------------------------------------
# log-rank (plain, stratified, pairwise)
# ---------------------------------------------------------------------------------------------
logrank_reference <- function(name, d, group, strata = NULL) {
  dd <- d
  dd$group <- d[[group]]
  sd <- survdiff(Surv(time, status) ~ group, data = dd)
  df <- sum(sd$exp > 0) - 1
  add(name, "logrank.chisq", sd$chisq)
  add(name, "logrank.df", df)
  add(name, "logrank.p", pchisq(sd$chisq, df, lower.tail = FALSE))
  add(name, "logrank.obs", sd$obs, sub(".*=", "", names(sd$n)))
  add(name, "logrank.exp", sd$exp, sub(".*=", "", names(sd$n)))
  if (!is.null(strata)) {
    dd$strat <- d[[strata]]
    ss <- survdiff(Surv(time, status) ~ group + strata(strat), data = dd)
    df <- length(ss$n) - 1
    add(name, "logrank.strat.chisq", ss$chisq)
    add(name, "logrank.strat.p", pchisq(ss$chisq, df, lower.tail = FALSE))
  }
  lev <- sort(unique(as.character(dd$group)))
  if (length(lev) > 2) {
    for (i in 1:(length(lev) - 1)) for (j in (i + 1):length(lev)) {
      sub <- dd[as.character(dd$group) %in% c(lev[i], lev[j]), ]
      s2 <- survdiff(Surv(time, status) ~ group, data = sub)
      add(name, "logrank.pair.chisq", s2$chisq, paste(lev[i], lev[j], sep = "|"))
      add(name, "logrank.pair.p", pchisq(s2$chisq, 1, lower.tail = FALSE),
          paste(lev[i], lev[j], sep = "|"))
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Cox: Efron (default) and Breslow, tests, concordance, cox.zph (km and identity)
# ---------------------------------------------------------------------------------------------
cox_reference <- function(name, formula, d, label = "cox", zph = TRUE) {
  fit <- coxph(formula, data = d, ties = "efron", model = TRUE, x = TRUE)
  s <- summary(fit)
  terms <- names(coef(fit))
  add(name, paste0(label, ".coef"), coef(fit), terms)
  add(name, paste0(label, ".se"), sqrt(diag(vcov(fit))), terms)
  add(name, paste0(label, ".z"), s$coefficients[, "z"], terms)
  add(name, paste0(label, ".p"), s$coefficients[, "Pr(>|z|)"], terms)
  add(name, paste0(label, ".hr"), exp(coef(fit)), terms)
  add(name, paste0(label, ".hr.lower"), s$conf.int[, "lower .95"], terms)
  add(name, paste0(label, ".hr.upper"), s$conf.int[, "upper .95"], terms)
  add(name, paste0(label, ".loglik"), fit$loglik[2])
  add(name, paste0(label, ".wald"), fit$wald.test)
  add(name, paste0(label, ".score"), fit$score)
  add(name, paste0(label, ".lr"), 2 * diff(fit$loglik))
  add(name, paste0(label, ".concordance"), fit$concordance[["concordance"]])
  cc <- concordance(fit)   # with its (infinitesimal jackknife) variance and pair counts
  cnt <- if (is.matrix(cc$count)) colSums(cc$count) else cc$count
  add(name, paste0(label, ".concordance.se"), sqrt(cc$var))
  add(name, paste0(label, ".concordance.count"), cnt, names(cnt))
  add(name, paste0(label, ".n"), fit$n)
  add(name, paste0(label, ".nevent"), fit$nevent)
  if (zph) {
    for (tr in c("km", "identity")) {
      z <- cox.zph(fit, transform = tr)
      add(name, paste0(label, ".zph.", tr, ".chisq"), z$table[, "chisq"], rownames(z$table))
      add(name, paste0(label, ".zph.", tr, ".df"), z$table[, "df"], rownames(z$table))
      add(name, paste0(label, ".zph.", tr, ".p"), z$table[, "p"], rownames(z$table))
    }
  }
  fb <- coxph(formula, data = d, ties = "breslow")
  add(name, paste0(label, ".breslow.coef"), coef(fb), names(coef(fb)))
  add(name, paste0(label, ".breslow.se"), sqrt(diag(vcov(fb))), names(coef(fb)))
}

# ---------------------------------------------------------------------------------------------
# competing risks: Aalen-Johansen (survfit multi-state), cmprsk cuminc + Gray's test
# ---------------------------------------------------------------------------------------------
cr_reference <- function(name, d, group = NULL, times = NULL) {
  dd <- d
  dd$ev <- factor(d$cause, levels = c(0, 1, 2), labels = c("censor", "1", "2"))
  for (ct in c("log", "log-log")) {
    fit <- if (is.null(group)) survfit(Surv(time, ev) ~ 1, data = dd, conf.type = ct) else {
      dd$group <- d[[group]]
      survfit(Surv(time, ev) ~ group, data = dd, conf.type = ct)
    }
    g <- strata_labels(fit, length(fit$time))
    for (k in c("1", "2")) {
      col <- match(k, fit$states)
      if (ct == "log") {
        add(name, paste0("cif.est.", k), fit$pstate[, col], g, fit$time)
        add(name, paste0("cif.se.", k), fit$std.err[, col], g, fit$time)
        add(name, "cif.n.risk", fit$n.risk[, 1], g, fit$time)
      }
      add(name, paste0("cif.lower.", ct, ".", k), fit$lower[, col], g, fit$time)
      add(name, paste0("cif.upper.", ct, ".", k), fit$upper[, col], g, fit$time)
    }
  }
  if (!is.null(group)) {
    ci <- cuminc(d$time, d$cause, d[[group]], cencode = 0)
    tst <- ci$Tests
    add(name, "gray.stat", tst[, "stat"], rownames(tst))
    add(name, "gray.p", tst[, "pv"], rownames(tst))
    add(name, "gray.df", tst[, "df"], rownames(tst))
    if ("strat" %in% names(d)) {
      cs <- cuminc(d$time, d$cause, d[[group]], strata = d$strat, cencode = 0)
      add(name, "gray.strat.stat", cs$Tests[, "stat"], rownames(cs$Tests))
      add(name, "gray.strat.p", cs$Tests[, "pv"], rownames(cs$Tests))
    }
    if (!is.null(times)) {
      tp <- timepoints(ci, times)
      for (r in rownames(tp$est)) {
        add(name, "cuminc.est", tp$est[r, ], r, times)
        add(name, "cuminc.var", tp$var[r, ], r, times)
      }
    }
  }
}

# =============================================================================================
# data sets
# =============================================================================================
# WE25 (a), (b), (c)
we25a <- data.frame(
  time = c(1, 3, 5, 6, 8, 9, 13, 16, 19, 20, 21, 22, 23, 24, 25, 26, 32, 33, 38, 39),
  status = c(1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1))
we25b <- data.frame(time = c(2, 3, 4, 5, 6, 7, 8, 10, 12, 15),
                    status = c(1, 1, 0, 1, 1, 0, 1, 0, 1, 0))
we25c <- data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 1, 1))
# WE26: group 1 = WE25b, group 0 as in the document
we26 <- rbind(
  data.frame(we25b, group = 1),
  data.frame(time = c(4, 6, 6, 9, 11, 14, 16, 18, 20, 24),
             status = c(1, 1, 1, 0, 1, 1, 0, 1, 0, 0), group = 0))
# WE27: 1 = progression, 2 = death, 0 = censored
we27 <- data.frame(time = c(1, 2, 2, 3, 4, 4, 5, 6, 7, 8),
                   cause = c(1, 2, 1, 0, 1, 2, 0, 1, 0, 2))

lung2 <- na.omit(survival::lung[, c("time", "status", "sex", "age", "ph.ecog")])
lung2$status <- lung2$status - 1
names(lung2)[names(lung2) == "ph.ecog"] <- "ph_ecog"
lung2$sex <- ifelse(lung2$sex == 1, "male", "female")
rownames(lung2) <- NULL

vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
vet$prior <- as.integer(vet$prior == 10)

mg <- survival::mgus2
mg2 <- data.frame(
  time = ifelse(mg$pstat == 0, mg$futime, mg$ptime),
  cause = ifelse(mg$pstat == 0, 2 * mg$death, 1),
  sex = as.character(mg$sex))

set.seed(20261127)
n <- 400
grp <- sample(c("a", "b", "c"), n, replace = TRUE)
strat <- sample(c("s1", "s2"), n, replace = TRUE)
x1 <- round(rnorm(n), 2)
x2 <- rbinom(n, 1, 0.4)
rate <- 0.02 * exp(0.3 * (grp == "b") + 0.7 * (grp == "c") + 0.3 * x1 + 0.5 * x2 +
                   0.3 * (strat == "s2"))
tev <- ceiling(rexp(n, rate))
tcen <- ceiling(runif(n, 0, 30))
time <- pmax(1, pmin(tev, tcen, 24))
status <- as.integer(tev <= pmin(tcen, 24))
synth_ties <- data.frame(time = time, status = status, group = grp, strat = strat,
                         x1 = x1, x2 = x2)
cause <- ifelse(status == 1, sample(c(1, 2), n, replace = TRUE, prob = c(0.6, 0.4)), 0)
synth_ties_cr <- data.frame(time = time, cause = cause, group = grp, strat = strat)

n2 <- 250
g2 <- sample(c("g1", "g2"), n2, replace = TRUE)
t1 <- rexp(n2, 0.08 * ifelse(g2 == "g2", 1.6, 1))
t2 <- rexp(n2, 0.05)
tc <- runif(n2, 0, 30)
tt <- pmin(t1, t2, tc)
synth_cr_noties <- data.frame(
  time = tt, cause = ifelse(tt == tc, 0, ifelse(tt == t1, 1, 2)), group = g2,
  x1 = round(rnorm(n2), 3))

# delayed entry (diagnosis origin, entry at SIRT)
n3 <- 150
ent <- round(runif(n3, 0, 6), 1)
dur <- round(rexp(n3, 0.06), 1) + 0.1
cz <- round(runif(n3, 5, 40), 1)
entry_d <- data.frame(entry = ent, time = ent + pmin(dur, cz), status = as.integer(dur <= cz),
                      group = sample(c("x", "y"), n3, replace = TRUE))

# time-dependent response (days): response has no effect on death hazard
n4 <- 300
tdeath <- ceiling(rexp(n4, 1 / 500))
tcens <- ceiling(runif(n4, 100, 1200))
tresp <- ifelse(runif(n4) < 0.45, ceiling(runif(n4, 40, 250)), NA)
td_pat <- data.frame(patient_id = sprintf("T%03d", 1:n4), time = pmin(tdeath, tcens),
                     status = as.integer(tdeath <= tcens), response_day = tresp)

# edge cases
edge_all_censored <- data.frame(time = c(1, 2, 3, 4, 5), status = 0)
edge_not_reached <- data.frame(time = 1:10, status = c(0, 1, 0, 0, 1, 0, 0, 0, 0, 0))
edge_single_event <- data.frame(time = 1:6, status = c(0, 0, 1, 0, 0, 0))
edge_tied_event_censor <- data.frame(
  time = c(2, 4, 6, 6, 7, 8, 1, 1, 3, 3, 3, 5, 5),
  status = c(1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0),
  group = c(rep("a", 6), rep("b", 7)))
edge_half_plateau <- data.frame(time = c(1, 2, 3, 4, 5, 6), status = c(1, 1, 1, 0, 1, 1))
edge_last_event <- data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 1))
edge_fp_ties <- data.frame(time = c(0.1 + 0.2, 0.3, 0.2, 0.5, 0.1 + 0.2, 0.7, 0.3, 0.9),
                           status = c(1, 0, 1, 1, 0, 1, 1, 0))
# group C censored before the first event: no expected events, survdiff df = 1 (not 2)
edge_no_expected <- data.frame(time = c(1, 3, 2, 4, 0.5, 0.5), status = c(1, 1, 1, 0, 0, 0),
                               group = c("A", "A", "B", "B", "C", "C"))
# infinite Cox coefficients (monotone likelihood): R's toler.inf warning per covariate
edge_infinite <- data.frame(time = 1:12, status = c(1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1),
                            first = c(1, rep(0, 11)),               # dies first, alone: +Inf
                            noevent = c(0, 0, 1, 0, 1, rep(0, 7)),  # censored only: -Inf
                            lastonly = c(rep(0, 7), 1, 0, 0, 0, 1), # dies alone at risk: -Inf
                            mixed = c(1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1))
edge_cr_ties <- data.frame(time = c(1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8),
                           cause = c(1, 1, 2, 0, 2, 1, 0, 2, 1, 2, 0, 1),
                           group = c("a", "b", "a", "b", "a", "b", "a", "b", "a", "b", "a", "b"))

for (nm in c("we25a", "we25b", "we25c", "we26", "we27", "lung2", "vet", "mg2", "synth_ties",
             "synth_ties_cr", "synth_cr_noties", "entry_d", "td_pat", "edge_all_censored",
             "edge_not_reached", "edge_single_event", "edge_tied_event_censor",
             "edge_half_plateau", "edge_last_event", "edge_fp_ties", "edge_cr_ties",
             "edge_no_expected", "edge_infinite")) {
  alias <- c(lung2 = "lung", vet = "veteran", mg2 = "mgus2_cr", entry_d = "entry")
  write_data(get(nm), if (nm %in% names(alias)) alias[[nm]] else nm)
}

# =============================================================================================
# references
# =============================================================================================
km_reference("we25a", we25a, times = c(6, 12, 24, 40), taus = c(20, 39))
km_reference("we25b", we25b, times = c(5, 10))
km_reference("we25c", we25c)
km_reference("we26", we26, group = "group", times = c(6, 12), taus = c(12, 20))
logrank_reference("we26", we26, "group")
cox_reference("we26", Surv(time, status) ~ group, we26)

km_reference("lung", lung2, times = c(180, 365, 730), taus = c(365, 730, 965))
km_reference("lung_by_sex", lung2, group = "sex", times = c(180, 365, 730),
             taus = c(365, 730))
logrank_reference("lung", lung2, "sex", strata = "ph_ecog")
logrank_reference("lung_ecog", transform(lung2, ecog = ph_ecog), "ecog")
cox_reference("lung", Surv(time, status) ~ age + sex + ph_ecog,
              transform(lung2, sex = factor(sex, levels = c("male", "female"))))
cox_reference("lung", Surv(time, status) ~ age + sex + strata(ph_ecog),
              transform(lung2, sex = factor(sex, levels = c("male", "female"))),
              label = "coxstrat", zph = FALSE)

km_reference("veteran_by_trt", vet, group = "trt", times = c(30, 90, 180), taus = c(180, 365))
logrank_reference("veteran", vet, "trt", strata = "prior")
logrank_reference("veteran_cell", vet, "celltype")
cox_reference("veteran", Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior,
              transform(vet, celltype = factor(celltype, levels = c("squamous", "smallcell",
                                                                     "adeno", "large"))))

km_reference("synth_ties", synth_ties, group = "group", times = c(6, 12, 24),
             taus = c(12, 24))
logrank_reference("synth_ties", synth_ties, "group", strata = "strat")
cox_reference("synth_ties", Surv(time, status) ~ group + x1 + x2, synth_ties)
cox_reference("synth_ties", Surv(time, status) ~ group + x1 + x2 + strata(strat), synth_ties,
              label = "coxstrat")

cr_reference("we27", we27)
cr_reference("mgus2_cr", mg2, group = "sex", times = c(12, 60, 120, 240))
cr_reference("synth_ties_cr", synth_ties_cr, group = "group", times = c(6, 12, 24))
cr_reference("synth_cr_noties", synth_cr_noties, group = "group", times = c(5, 10, 20))
cr_reference("edge_cr_ties", edge_cr_ties, group = "group", times = c(2, 4, 6))
cox_reference("synth_cr_noties", Surv(time, cause > 0) ~ group + x1, synth_cr_noties)

km_reference("entry", entry_d, times = c(6, 12, 24), entry = TRUE)
km_reference("entry_by_group", entry_d, group = "group", entry = TRUE)

# time-dependent Cox with tmerge, naive (biased) Cox, and landmark analyses
base <- td_pat[, c("patient_id", "time", "status")]
cp <- tmerge(base, base, id = patient_id, death = event(time, status))
cp <- tmerge(cp, td_pat, id = patient_id, resp = tdc(response_day))
cp$resp[is.na(cp$resp)] <- 0
add("td", "td.nrows", nrow(cp))
fit_td <- coxph(Surv(tstart, tstop, death) ~ resp, data = cp)
s_td <- summary(fit_td)
add("td", "td.coef", coef(fit_td), "resp")
add("td", "td.se", sqrt(diag(vcov(fit_td))), "resp")
add("td", "td.p", s_td$coefficients[, "Pr(>|z|)"], "resp")
add("td", "td.hr.lower", s_td$conf.int[, "lower .95"], "resp")
add("td", "td.hr.upper", s_td$conf.int[, "upper .95"], "resp")
add("td", "td.score", fit_td$score)
add("td", "td.lr", 2 * diff(fit_td$loglik))
for (L in c(90, 180)) {
  lm <- subset(td_pat, time > L)
  lm$resp <- as.integer(!is.na(lm$response_day) & lm$response_day <= L)
  lm$tl <- lm$time - L
  sd <- survdiff(Surv(tl, status) ~ resp, data = lm)
  add("td", "landmark.n", nrow(lm), "", L)
  add("td", "landmark.nresp", sum(lm$resp), "", L)
  add("td", "landmark.chisq", sd$chisq, "", L)
  lf <- coxph(Surv(tl, status) ~ resp, data = lm)
  add("td", "landmark.coef", coef(lf), "resp", L)
  add("td", "landmark.se", sqrt(vcov(lf)[1, 1]), "resp", L)
}

for (nm in c("edge_all_censored", "edge_not_reached", "edge_single_event", "edge_half_plateau",
             "edge_last_event", "edge_fp_ties")) {
  km_reference(nm, get(nm), times = c(2, 4))
}
km_reference("edge_tied_event_censor", edge_tied_event_censor, group = "group")
logrank_reference("edge_tied_event_censor", edge_tied_event_censor, "group")
logrank_reference("edge_no_expected", edge_no_expected, "group")
for (v in c("first", "noevent", "lastonly", "mixed")) {
  flagged <- 0
  fit <- withCallingHandlers(
    coxph(as.formula(paste("Surv(time, status) ~", v)), data = edge_infinite),
    warning = function(w) {
      if (grepl("Loglik converged before variable", conditionMessage(w))) flagged <<- 1
      invokeRestart("muffleWarning")
    })
  add("edge_infinite", "cox.infinite", flagged, v)   # 1 = "Loglik converged before variable"
  add("edge_infinite", "cox.coef", coef(fit), v)
}

ref <- do.call(rbind, REF)
dir.create("reference", showWarnings = FALSE)
for (nm in unique(ref$dataset)) {
  write.csv(ref[ref$dataset == nm, ], file.path("reference", paste0(nm, ".csv")),
            row.names = FALSE, quote = FALSE)
}
writeLines(c(R.version.string,
             paste("survival", as.character(packageVersion("survival"))),
             paste("cmprsk", as.character(packageVersion("cmprsk")))), "versions.txt")
cat("rows:", nrow(ref), "\n")
